//! `fabplan as-built`: real captures (tests/fixtures/as-built/) against designs written from
//! their READMEs, and miswired copies made here, each fault known, so the diff must report
//! exactly those faults with their spans and hints.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use common::{copy_dir, run, snapshot};
use serde_json::Value;

const LAB: &str = "tests/fixtures/as-built/designs/lldp-lab.yaml";
const NDR: &str = "tests/fixtures/as-built/designs/topograph-ndr-2tier.yaml";
const NDR_CAPTURE: &str = "tests/fixtures/as-built/ibnetdiscover/topograph-ndr-2tier.out";

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn lab_captures(dir: &str) -> Vec<String> {
    [
        "host1", "host2", "host3", "host4", "leaf1", "leaf2", "spine1", "spine2",
    ]
    .iter()
    .map(|n| format!("{dir}/{n}.json"))
    .collect()
}

fn as_built(design: &str, captures: &[String], extra: &[&str]) -> common::Run {
    let mut args = vec!["as-built", design];
    args.extend(captures.iter().map(String::as_str));
    args.extend(extra);
    run(&args)
}

/// Codes of a JSON report, counted.
fn codes(stdout: &str) -> BTreeMap<String, usize> {
    let v: Value = serde_json::from_str(stdout).expect("json report");
    let mut m = BTreeMap::new();
    for f in v["findings"].as_array().expect("findings") {
        *m.entry(f["code"].as_str().unwrap().to_string())
            .or_default() += 1;
    }
    m
}

/// A scratch copy of the lab captures, unique per test.
fn scratch(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("fabplan-asbuilt-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    copy_dir(&root().join("tests/fixtures/as-built/lldp/correct"), &dir);
    dir
}

fn edit_json(path: &Path, f: impl FnOnce(&mut Value)) {
    let mut v: Value = serde_json::from_str(&std::fs::read_to_string(path).unwrap()).unwrap();
    f(&mut v);
    std::fs::write(path, serde_json::to_string_pretty(&v).unwrap() + "\n").unwrap();
}

/// In a `-f json` capture with several neighbours, renames the entry of local port `from`.
fn rename_port(v: &mut Value, from: &str, to: &str) {
    for item in v["lldp"]["interface"].as_array_mut().unwrap() {
        let obj = item.as_object_mut().unwrap();
        if let Some(e) = obj.remove(from) {
            obj.insert(to.to_string(), e);
        }
    }
}

#[test]
fn the_correct_lab_matches_its_design() {
    let r = as_built(
        LAB,
        &lab_captures("tests/fixtures/as-built/lldp/correct"),
        &[],
    );
    assert_eq!(r.code, 0, "{}", r.transcript());
    snapshot("asbuilt-lab-correct", &r.transcript());
}

#[test]
fn json0_and_json_captures_mix() {
    let mut caps = lab_captures("tests/fixtures/as-built/lldp/correct");
    caps[4] = "tests/fixtures/as-built/lldp/correct/leaf1.json0.json".into();
    let r = as_built(LAB, &caps, &["--format", "json"]);
    assert_eq!(r.code, 0, "{}", r.transcript());
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    assert_eq!(v["matched"], 8);
    assert_eq!(v["captured_cables"], 8);
    assert_eq!(v["findings"].as_array().unwrap().len(), 0);
}

/// Two host ports swapped on leaf1, host4's cable dropped, the leaf1-spine1 cable at another
/// speed: exactly these faults, each on its designed link with a hint.
#[test]
fn a_miswired_lab_reports_exactly_its_faults() {
    let dir = scratch("miswired");
    // Swap: host1 goes to leaf1:swp2, host2 to leaf1:swp1 (both ends' views).
    edit_json(&dir.join("leaf1.json"), |v| {
        rename_port(v, "swp1", "tmp");
        rename_port(v, "swp2", "swp1");
        rename_port(v, "tmp", "swp2");
    });
    for (host, port) in [("host1", "swp2"), ("host2", "swp1")] {
        edit_json(&dir.join(format!("{host}.json")), |v| {
            let p = &mut v["lldp"]["interface"]["eth0"]["port"];
            p["id"]["value"] = port.into();
            p["descr"] = port.into();
        });
    }
    // Drop host4 -- leaf2:swp2: neither end sees it any more.
    edit_json(&dir.join("leaf2.json"), |v| {
        let list = v["lldp"]["interface"].as_array_mut().unwrap();
        list.retain(|i| i.get("swp2").is_none());
    });
    std::fs::write(dir.join("host4.json"), "{\n  \"lldp\": {\n  }\n}\n").unwrap();
    // leaf1:swp51 -- spine1:swp1 trains at 1 Gb/s on both ends.
    let slow = "1000BaseTFD - Four-pair Category 5 UTP, full duplex mode";
    edit_json(&dir.join("leaf1.json"), |v| {
        for i in v["lldp"]["interface"].as_array_mut().unwrap() {
            if let Some(e) = i.get_mut("swp51") {
                e["port"]["auto-negotiation"]["current"] = slow.into();
            }
        }
    });
    edit_json(&dir.join("spine1.json"), |v| {
        for i in v["lldp"]["interface"].as_array_mut().unwrap() {
            if let Some(e) = i.get_mut("swp1") {
                e["port"]["auto-negotiation"]["current"] = slow.into();
            }
        }
    });
    let caps = lab_captures(dir.to_str().unwrap());
    let json = as_built(LAB, &caps, &["--format", "json"]);
    assert_eq!(json.code, 1, "{}", json.transcript());
    assert_eq!(
        codes(&json.stdout),
        BTreeMap::from([
            ("FP950".into(), 2),
            ("FP951".into(), 1),
            ("FP953".into(), 1),
            // The slow uplink leaves leaf1 with 11 Gb/s up for 20 Gb/s down.
            ("FP960".into(), 1),
        ]),
        "{}",
        json.stdout
    );
    let v: Value = serde_json::from_str(&json.stdout).unwrap();
    let f = &v["findings"].as_array().unwrap();
    // Each finding is labelled on the designed link's line of the design.
    let lines: Vec<_> = f
        .iter()
        .map(|f| (f["code"].as_str().unwrap(), f["line"].as_u64().unwrap()))
        .collect();
    assert_eq!(
        lines,
        [
            ("FP950", 28),
            ("FP950", 29),
            ("FP951", 31),
            ("FP953", 32),
            ("FP960", 25)
        ]
    );
    assert_eq!(
        f[0]["help"],
        "move the cable end from `leaf1:swp2` to `leaf1:swp1`"
    );
    assert_eq!(
        f[1]["help"],
        "move the cable end from `leaf1:swp1` to `leaf1:swp2`"
    );
    let human = as_built(LAB, &caps, &[]);
    assert_eq!(human.code, 1);
    let text = human
        .transcript()
        .replace(dir.to_str().unwrap(), "<captures>");
    snapshot("asbuilt-lab-miswired", &text);
    let sarif = as_built(LAB, &caps, &["--format", "sarif"]);
    assert_eq!(sarif.code, 1);
    let s: Value = serde_json::from_str(&sarif.stdout).unwrap();
    let results = s["runs"][0]["results"].as_array().unwrap();
    assert_eq!(results.len(), 5);
    assert_eq!(
        results[0]["locations"][0]["physicalLocation"]["region"]["startLine"],
        28
    );
    assert!(results[0]["relatedLocations"]
        .as_array()
        .is_some_and(|r| !r.is_empty()));
    let schema: Value = serde_json::from_str(
        &std::fs::read_to_string(root().join("tests/fixtures/schemas/sarif-schema-2.1.0.json"))
            .unwrap(),
    )
    .unwrap();
    let errors = common::jsonschema::validate(&schema, &s);
    assert!(errors.is_empty(), "SARIF 2.1.0 schema: {errors:#?}");
    let _ = std::fs::remove_dir_all(&dir);
}

/// A device named differently in the design is matched through the mapping file.
#[test]
fn the_mapping_file_renames_devices() {
    let dir = scratch("mapping");
    let design = std::fs::read_to_string(root().join(LAB))
        .unwrap()
        .replace("spine[1-2]", "sp-a,sp-b")
        .replace("spine1:", "sp-a:")
        .replace("spine2:", "sp-b:");
    std::fs::write(dir.join("design.yaml"), design).unwrap();
    let d = dir.join("design.yaml");
    let caps = lab_captures("tests/fixtures/as-built/lldp/correct");
    let without = as_built(d.to_str().unwrap(), &caps, &["--format", "json"]);
    assert_eq!(without.code, 1);
    assert_eq!(
        codes(&without.stdout),
        // Without the mapping the spines are not design devices: each uplink lands on a
        // device the design does not have, and the leaves count no uplinks.
        BTreeMap::from([("FP950".into(), 4), ("FP960".into(), 2)]),
        "{}",
        without.stdout
    );
    std::fs::write(dir.join("map.yaml"), "devices:\n  spine1: sp-a\n  \"02:00:00:12:00:00\": sp-b   # by chassis id: unused, spine2 has a SysName\n  spine2: sp-b\n").unwrap();
    let v: Value = serde_json::from_str(&without.stdout).unwrap();
    assert_eq!(
        v["findings"][0]["help"],
        "move the cable end from `spine1:swp1` to `sp-a:swp1`; or, if `spine1` is `sp-a` under \
         another name, map it under `devices:` in the mapping file"
    );
    let with = as_built(
        d.to_str().unwrap(),
        &caps,
        &["--map", dir.join("map.yaml").to_str().unwrap()],
    );
    assert_eq!(with.code, 0, "{}", with.transcript());
    std::fs::write(dir.join("bad-map.yaml"), "devices:\n  spine1: sp-c\n").unwrap();
    let bad = as_built(
        d.to_str().unwrap(),
        &caps,
        &["--map", dir.join("bad-map.yaml").to_str().unwrap()],
    );
    assert_eq!(bad.code, 2, "{}", bad.transcript());
    snapshot(
        "asbuilt-mapping-invalid",
        &bad.transcript().replace(dir.to_str().unwrap(), "<dir>"),
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// The real NDR capture against the README's intended structure: its real faults.
#[test]
fn the_topograph_capture_departs_from_its_design() {
    let r = run(&["as-built", NDR, NDR_CAPTURE, "--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.stderr);
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    // 32 leaves x (18 hosts + 18 uplinks) designed; README: 1114 links of which 40 are SHARP.
    assert_eq!(v["designed_cables"], 32 * 36);
    assert_eq!(v["captured_cables"], 1114 - 40);
    let c = codes(&r.stdout);
    // IBLEAF-03-01 is absent (README): one finding, not 36.
    assert_eq!(c.get("FP958"), Some(&1), "{c:?}");
    snapshot("asbuilt-topograph-codes", &format!("{c:#?}\n"));
    let human = run(&["as-built", NDR, NDR_CAPTURE, "--limit", "2"]);
    assert_eq!(human.code, 1);
    snapshot("asbuilt-topograph", &human.transcript());
}

#[test]
fn the_link_list_of_a_capture() {
    let r = run(&[
        "as-built",
        "--links",
        "tests/fixtures/as-built/ibnetdiscover/ufm-small-mixed-speeds.txt",
    ]);
    assert_eq!(r.code, 0, "{}", r.transcript());
    snapshot("asbuilt-links-ufm-small", &r.transcript());
    let j = run(&[
        "as-built",
        "--links",
        "--format",
        "json",
        "tests/fixtures/as-built/ibnetdiscover/ufm-selene-storage-hdr-3tier.txt",
    ]);
    assert_eq!(j.code, 0, "{}", j.stderr);
    let v: Value = serde_json::from_str(&j.stdout).unwrap();
    // README: 3286 links, no SHARP nodes, every one seen from both ends.
    let links = v["links"].as_array().unwrap();
    assert_eq!(links.len(), 3286);
    assert!(links
        .iter()
        .all(|l| l["seen"].as_array().unwrap().len() == 2));
}

#[test]
fn parse_problems_exit_2_with_file_line_col() {
    let dir = std::env::temp_dir().join(format!("fabplan-asbuilt-{}-bad", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("bad.out"), "Switch\t41 \"S-b8599f0300fc6de4\"\t\t# \"MF0;sw1:MQM8700/U1\" enhanced port 0 lid 13 lmc 0\n[3]\t\"S-0002c903007b78b0\"[1]\t\t# \"MF0;sw2:SX6036/U1\" lid 19 4xQDX\n[x]\t\"S-0002c903007b78b0\"[2]\t\t# \"MF0;sw2:SX6036/U1\" lid 19 4xQDR\n").unwrap();
    std::fs::write(
        dir.join("leaf9.json"),
        "{\"lldp\": {\"interface\": [\n  {\"swp1\": {\"chassis\": {\"spine1\": {}}}}\n]}}\n",
    )
    .unwrap();
    std::fs::write(dir.join("broken.json"), "{\"lldp\": {\"interface\": [\n").unwrap();
    std::fs::write(dir.join("notes.txt"), "cables look fine\n").unwrap();
    let names = ["bad.out", "leaf9.json", "broken.json", "notes.txt"];
    let caps: Vec<String> = names
        .iter()
        .map(|n| dir.join(n).to_str().unwrap().to_string())
        .collect();
    let r = as_built(LAB, &caps, &[]);
    assert_eq!(r.code, 2, "{}", r.transcript());
    for code in ["FP940", "FP941", "FP942"] {
        assert!(r.stdout.contains(code), "{code} missing:\n{}", r.stdout);
    }
    snapshot(
        "asbuilt-parse-problems",
        &r.transcript().replace(dir.to_str().unwrap(), "<dir>"),
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn as_built_help() {
    let r = run(&["as-built", "--help"]);
    assert_eq!(r.code, 0);
    snapshot("help_as-built", &r.transcript());
    assert_eq!(
        run(&["as-built", LAB]).code,
        2,
        "a design without captures is bad usage"
    );
}

/// A copy of the real NDR capture with two more faults made here: one HCA cable trained at
/// 2x (both views), and a host of SU 1 moved onto the free port of SU 2's rail-1 leaf. The diff
/// must change by exactly those faults relative to the real capture.
#[test]
fn a_miswired_ndr_copy_reports_width_and_leaf_group() {
    let text = std::fs::read_to_string(root().join(NDR_CAPTURE)).unwrap();
    let mut lines: Vec<String> = text.split_inclusive('\n').map(String::from).collect();
    // a08-p1-dgx-04-c01 mlx5_5 (on A09-P1-IBLEAF-04-04:1) at 2 lanes, as both ends see it.
    for l in lines
        .iter_mut()
        .filter(|l| l.contains("e09d7303007a4bd8") && l.contains("4xNDR"))
    {
        *l = l.replace("4xNDR", "2xNDR");
    }
    // a05-p1-dgx-01-c13 HCA-1 from A09-P1-IBLEAF-01-01:13 to A09-P1-IBLEAF-01-02:5 (SU 2's
    // rail-1 leaf, whose port 5 is empty in the real capture).
    let at = lines
        .iter()
        .position(|l| l.starts_with("[13]\t\"H-e09d7303007a4a7c\""))
        .unwrap();
    let moved = lines.remove(at).replacen("[13]", "[5]", 1);
    let header = lines
        .iter()
        .position(|l| l.contains("IBLEAF-01-02:MQM9701/U1\" enhanced"))
        .unwrap();
    lines.insert(header + 1, moved);
    for l in lines
        .iter_mut()
        .filter(|l| l.starts_with("[1](e09d7303007a4a7c)"))
    {
        *l = l
            .replace("\"S-2c5eab0300b87b00\"[13]", "\"S-2c5eab0300b87a80\"[5]")
            .replace("IBLEAF-01-01", "IBLEAF-01-02");
    }
    let dir = std::env::temp_dir().join(format!("fabplan-asbuilt-{}-ndr", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let copy = dir.join("ndr-miswired.out");
    std::fs::write(&copy, lines.concat()).unwrap();
    let real = run(&["as-built", NDR, NDR_CAPTURE, "--format", "json"]);
    let made = run(&["as-built", NDR, copy.to_str().unwrap(), "--format", "json"]);
    assert_eq!(made.code, 1, "{}", made.stderr);
    let (before, after) = (codes(&real.stdout), codes(&made.stdout));
    let mut delta: BTreeMap<String, i64> = BTreeMap::new();
    for (code, n) in &after {
        *delta.entry(code.clone()).or_default() += *n as i64;
    }
    for (code, n) in &before {
        *delta.entry(code.clone()).or_default() -= *n as i64;
    }
    delta.retain(|_, n| *n != 0);
    assert_eq!(
        delta,
        BTreeMap::from([
            ("FP954".into(), 1),
            ("FP956".into(), 1),
            // A09-P1-IBLEAF-01-01 lost a host: its 17 uplinks now cover its 17 hosts.
            ("FP960".into(), -1),
        ])
    );
    let v: Value = serde_json::from_str(&made.stdout).unwrap();
    let by_code = |code: &str| {
        v["findings"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["code"] == code)
            .cloned()
            .unwrap()
    };
    let group = by_code("FP956");
    assert_eq!(
        group["help"],
        "move the cable end from `A09-P1-IBLEAF-01-02:5` to `A09-P1-IBLEAF-01-01:13`"
    );
    assert_eq!(group["as_built"][0]["file"], copy.to_str().unwrap());
    let width = by_code("FP954");
    assert!(width["message"]
        .as_str()
        .unwrap()
        .contains("trained at 2 lanes (`2xNDR`)"));
    let _ = std::fs::remove_dir_all(&dir);
}

/// Both ends captured, and they disagree: host1 says it is on `leaf1:swp2`, leaf1 still sees
/// it on `swp1`. Each view is reported (FP943) at its own file and line.
#[test]
fn views_that_disagree_are_reported() {
    let dir = scratch("disagree");
    edit_json(&dir.join("host1.json"), |v| {
        let p = &mut v["lldp"]["interface"]["eth0"]["port"];
        p["id"]["value"] = "swp2".into();
        p["descr"] = "swp2".into();
    });
    let caps = lab_captures(dir.to_str().unwrap());
    let r = as_built(LAB, &caps, &["--format", "json"]);
    assert_eq!(r.code, 1, "{}", r.transcript());
    let v: Value = serde_json::from_str(&r.stdout).unwrap();
    let disagree: Vec<String> = v["findings"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|f| f["code"] == "FP943")
        .map(|f| {
            let at = &f["as_built"][0];
            format!(
                "{}:{}",
                at["file"].as_str().unwrap().rsplit('/').next().unwrap(),
                at["line"]
            )
        })
        .collect();
    assert_eq!(disagree, ["host1.json:4", "leaf1.json:5"]);
    // The given order of the captures does not change the report.
    let mut reversed = caps.clone();
    reversed.reverse();
    assert_eq!(
        as_built(LAB, &reversed, &["--format", "json"]).stdout,
        r.stdout
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// An HCA with the adapter-default description is matched by its node id through `ports:`.
#[test]
fn the_mapping_file_names_an_unnamed_hca_by_guid() {
    let dir = std::env::temp_dir().join(format!("fabplan-asbuilt-{}-guid", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let map = dir.join("map.yaml");
    // Port 6 of A09-P1-IBLEAF-04-02 holds `MT4129 ConnectX7   Mellanox Technologies`.
    std::fs::write(
        &map,
        "ports:\n  \"H-e09d730300858d88:1\": \"a06-p1-dgx-02-c06:HCA-6\"\n",
    )
    .unwrap();
    let plain = run(&["as-built", NDR, NDR_CAPTURE, "--format", "json"]);
    let mapped = run(&[
        "as-built",
        NDR,
        NDR_CAPTURE,
        "--format",
        "json",
        "--map",
        map.to_str().unwrap(),
    ]);
    let (a, b): (Value, Value) = (
        serde_json::from_str(&plain.stdout).unwrap(),
        serde_json::from_str(&mapped.stdout).unwrap(),
    );
    assert_eq!(
        b["matched"].as_u64().unwrap(),
        a["matched"].as_u64().unwrap() + 1
    );
    assert_eq!(
        codes(&mapped.stdout)["FP957"] + 1,
        codes(&plain.stdout)["FP957"]
    );
    let _ = std::fs::remove_dir_all(&dir);
}

/// No input makes the parsers, the merge or the diff panic.
mod never_panics {
    use super::*;
    use crate::common::mutate::{apply, mutation};
    use fabplan::asbuilt::{self, Capture};
    use fabplan::source::SourceFile;
    use proptest::prelude::*;

    fn parse_merge_diff(texts: &[(&str, String)]) {
        let loaded = fabplan::load::load_fabric_file(&root().join(LAB));
        let fabric = loaded.fabric.expect("the lab design loads");
        let mut cap = Capture::default();
        let (mut halves, mut viewers) = (Vec::new(), std::collections::BTreeSet::new());
        for (i, (name, text)) in texts.iter().enumerate() {
            let file = SourceFile::new(*name, text.clone());
            let (_, parsed) = asbuilt::parse_capture(&file, i, None);
            cap.files.push(file);
            asbuilt::add_parsed(&mut cap, &mut halves, &mut viewers, i, parsed);
        }
        let (links, diags) = asbuilt::merge(halves, &viewers, &cap.files);
        cap.links = links;
        cap.diagnostics.extend(diags);
        let _ = asbuilt::diff::diff(&fabric, &cap, None);
    }

    fn fixture(rel: &str) -> String {
        std::fs::read_to_string(root().join("tests/fixtures/as-built").join(rel)).unwrap()
    }

    proptest! {
        #![proptest_config(ProptestConfig { cases: 128, ..ProptestConfig::default() })]

        #[test]
        fn arbitrary_text(text in "[SCa0-9a-fx\\[\\]()\"#{}:,\\- \t\n]{0,400}") {
            parse_merge_diff(&[("leaf1.out", text.clone()), ("leaf1.json", format!("{{{text}"))]);
        }

        #[test]
        fn mutated_captures(mutations in prop::collection::vec(mutation(), 1..5)) {
            let mut ib = fixture("ibnetdiscover/ufm-small-mixed-speeds.txt");
            let mut leaf = fixture("lldp/correct/leaf1.json");
            let mut json0 = fixture("lldp/correct/leaf1.json0.json");
            for m in &mutations {
                ib = apply(&ib, m);
                leaf = apply(&leaf, m);
                json0 = apply(&json0, m);
            }
            parse_merge_diff(&[("small.txt", ib), ("leaf1.json", leaf), ("leaf1.json0.json", json0)]);
        }
    }
}

#[test]
fn a_failed_write_leaves_no_file() {
    let mut args = vec!["as-built", LAB];
    let caps = lab_captures("tests/fixtures/as-built/lldp/correct");
    args.extend(caps.iter().map(String::as_str));
    common::assert_failed_write(&args, "report.txt");
}

/// A design that does not load, or a mapping file with an unknown key, stops the run (exit 2)
/// with the file's own diagnostic and no diff.
#[test]
fn a_bad_design_or_mapping_file_exits_2() {
    let caps = lab_captures("tests/fixtures/as-built/lldp/correct");
    let r = as_built("tests/fixtures/broken/bad-medium.yaml", &caps, &[]);
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(
        r.stdout.contains("FP009") && !r.stdout.contains("as built ("),
        "{}",
        r.stdout
    );
    let dir = std::env::temp_dir().join(format!("fabplan-asbuilt-{}-badmap", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let map = dir.join("map.yaml");
    std::fs::write(&map, "device:\n  spine1: spine1\n").unwrap();
    let r = as_built(LAB, &caps, &["--map", map.to_str().unwrap()]);
    assert_eq!(r.code, 2, "{}", r.transcript());
    assert!(r.stdout.contains("FP002"), "{}", r.stdout);
    let _ = std::fs::remove_dir_all(&dir);
}

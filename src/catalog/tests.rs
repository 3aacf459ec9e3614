use super::*;
use crate::mig::Provenance;

const KEYS: &[&str] = &[
    "a100-40gb",
    "a100-80gb",
    "b200",
    "gb200",
    "h100-80gb",
    "h100-nvl-94gb",
    "h200-141gb",
    "rtx-pro-6000-blackwell",
];

#[test]
fn builtin_has_every_reference_model_sorted_by_key() {
    let keys: Vec<&str> = Catalog::builtin().gpus().map(|m| m.key.as_str()).collect();
    assert_eq!(keys, KEYS);
}

#[test]
fn builtin_files_are_in_canonical_form() {
    // The importer writes this exact form, so user files and built-ins stay one format.
    for (origin, text) in BUILTIN_FILES {
        let model = parse_gpu_model_yaml(text, origin).unwrap();
        assert_eq!(render_gpu_model_yaml(&model, &[]), *text, "{origin}");
    }
}

#[test]
fn rendered_models_parse_back_to_the_same_model() {
    // Every built-in model, then the same models with names, aliases, sources, notes and
    // profile sources that YAML would misread if they were written unquoted or by hand.
    let awkward = [
        "lab: 4",
        "lab#4 # not a comment",
        "ba\"tch 'q'",
        "- [x] {y}",
        "line\nbreak\ttab \\ back",
        "yes",
        "0x10",
        "",
    ];
    for model in Catalog::builtin().gpus() {
        let text = render_gpu_model_yaml(model, &["a header".into(), "two\nlines".into()]);
        assert_eq!(
            parse_gpu_model_yaml(&text, "<render>").unwrap(),
            *model,
            "{}",
            model.key
        );
        for (i, odd) in awkward.iter().enumerate() {
            let mut m = model.clone();
            m.name = format!("N {odd} end");
            m.aliases.push(odd.to_string());
            m.sources.push(odd.to_string());
            if let Some(mig) = m.mig.as_mut() {
                mig.notes.push(odd.to_string());
                mig.profiles[0].source = odd.to_string();
            }
            let header = [odd.to_string()];
            let text = render_gpu_model_yaml(&m, &header);
            let back = parse_gpu_model_yaml(&text, "<render>")
                .unwrap_or_else(|e| panic!("{} #{i}: {e}\n{text}", m.key));
            assert_eq!(back, m, "{} #{i}", m.key);
        }
    }
}

/// The reference tables (tests/fixtures/reference-mig/profiles-*.yaml, copied to tests/fixtures) and the
/// catalog agree on every placement field.
#[test]
fn builtin_tables_match_reference_profiles() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/reference-mig");
    for key in KEYS {
        let text = std::fs::read_to_string(format!("{dir}/profiles-{key}.yaml")).unwrap();
        let reference: serde_json::Value = serde_saphyr::from_str(&text).unwrap();
        let model = Catalog::builtin().gpu(key).unwrap();
        let mig = model.mig.as_ref().unwrap();
        assert_eq!(
            reference["placement_units"], mig.placement_units as u64,
            "{key}"
        );
        assert_eq!(
            reference["compute_slices"], mig.compute_slices as u64,
            "{key}"
        );
        assert_eq!(
            reference["memory_slices"], mig.memory_slices as u64,
            "{key}"
        );
        let ref_profiles = reference["profiles"].as_array().unwrap();
        assert_eq!(ref_profiles.len(), mig.profiles.len(), "{key}");
        for (r, p) in ref_profiles.iter().zip(&mig.profiles) {
            assert_eq!(r["name"], p.name.as_str());
            assert_eq!(r["id"], p.id as u64, "{key} {}", p.name);
            assert_eq!(r["compute_slices"], p.compute_slices as u64);
            assert_eq!(r["memory_slices"], p.memory_slices as u64);
            assert_eq!(r["size"], p.size as u64, "{key} {}", p.name);
            let starts: Vec<u64> = p.starts.iter().map(|&s| s as u64).collect();
            assert_eq!(
                r["placements"],
                serde_json::json!(starts),
                "{key} {}",
                p.name
            );
            assert_eq!(r["max_instances"], p.max_instances as u64);
            assert_eq!(r["memory_gib"].as_f64(), p.memory_gib, "{key} {}", p.name);
            assert_eq!(r["sms"].as_u64(), p.sms.map(u64::from), "{key} {}", p.name);
            match (&r["engines"], &p.engines) {
                (serde_json::Value::Null, None) => {}
                (e, Some(pe)) => {
                    assert_eq!(e["nvdec"], pe.nvdec as u64);
                    assert_eq!(e["nvenc"], pe.nvenc as u64);
                    assert_eq!(e["jpeg"], pe.jpeg as u64);
                    assert_eq!(e["ofa"], pe.ofa as u64);
                }
                (e, None) => panic!("{key} {}: engines {e} missing", p.name),
            }
        }
        // Every reference PCI id (written "0xDDDDVVVV (comment)") is in the catalog.
        for id in reference["pci_device_ids"].as_array().unwrap() {
            let id = parse_pci_id(&id.as_str().unwrap()[..10]).unwrap();
            assert!(model.pci_device_ids.contains(&id), "{key} {id:#x}");
        }
    }
}

#[test]
fn provenance_follows_the_reference() {
    // docs/mig-rules.md section 1: B200/GB200 placements are inferred; A100-80GB is assumed from 40GB.
    for key in KEYS {
        let mig = Catalog::builtin().gpu(key).unwrap().mig.as_ref().unwrap();
        let expected = match *key {
            "a100-80gb" | "b200" | "gb200" => Provenance::Inferred,
            _ => Provenance::Captured,
        };
        assert!(
            mig.profiles.iter().all(|p| p.provenance == expected),
            "{key}"
        );
        assert!(mig.profiles.iter().all(|p| !p.source.is_empty()), "{key}");
    }
}

#[test]
fn lookup_by_key_alias_name_and_pci_id() {
    let c = Catalog::builtin();
    assert_eq!(c.gpu("H100").unwrap().key, "h100-80gb");
    assert_eq!(c.gpu("nvidia h100 80gb hbm3").unwrap().key, "h100-80gb");
    assert_eq!(c.gpu("h200").unwrap().key, "h200-141gb");
    assert_eq!(c.gpu("a100").unwrap().key, "a100-40gb");
    assert_eq!(c.gpu("NVIDIA H200").unwrap().key, "h200-141gb");
    assert!(c.gpu("v100").is_none());
    // Real captures: H100 Device Id 0x233010DE, H200 0x233510DE (fixtures/nvidia-smi).
    assert_eq!(c.by_pci_id(0x2330_10DE).next().unwrap().key, "h100-80gb");
    assert_eq!(c.by_pci_id(0x2335_10DE).next().unwrap().key, "h200-141gb");
    // docs/mig-rules.md section 4: the go-nvml mock's H200 id 0x233310DE is wrong.
    assert!(c.by_pci_id(0x2333_10DE).next().is_none());
    assert_eq!(c.by_pci_id(0x2901_10DE).next().unwrap().key, "b200");
}

#[test]
fn specs_have_units_and_sources() {
    let h100 = Catalog::builtin().gpu("h100-80gb").unwrap();
    // docs/sources.md §1 and §5.
    assert_eq!(
        (h100.memory_gib, h100.hbm_tbps, h100.tdp_w),
        (80.0, 3.35, 700)
    );
    assert_eq!((h100.nvlink_gen, h100.nvlink_gbytes_per_s), (4, 900));
    let b200 = Catalog::builtin().gpu("b200").unwrap();
    assert_eq!(
        (b200.hbm_tbps, b200.tdp_w, b200.nvlink_gbytes_per_s),
        (8.0, 1000, 1800)
    );
    assert!(Catalog::builtin().gpus().all(|m| !m.sources.is_empty()));
}

#[test]
fn with_models_overrides_by_key_and_adds_new_keys() {
    let c = Catalog::builtin();
    let mut h100 = c.gpu("h100-80gb").unwrap().clone();
    h100.tdp_w = 650;
    let mut custom = h100.clone();
    custom.key = "my-gpu".into();
    custom.aliases = vec!["mine".into()];
    let merged = c.with_models(vec![h100, custom]);
    assert_eq!(merged.gpu("h100").unwrap().tdp_w, 650);
    assert_eq!(merged.gpu("MINE").unwrap().key, "my-gpu");
    assert_eq!(merged.gpus().count(), KEYS.len() + 1);
    assert!(merged.gpus().map(|m| &m.key).is_sorted());
}

fn error_of(text: &str) -> crate::error::InputError {
    parse_gpu_model_yaml(text, "user.yaml").unwrap_err()
}

const SMALL: &str = "key: x1\nname: X\nmemory_gib: 8\nmig:\n  placement_units: 2\n  compute_slices: 2\n  memory_slices: 2\n  profiles:\n    - name: 1g.4gb\n      id: 1\n      compute_slices: 1\n      memory_slices: 1\n      size: 1\n      starts: [0, 1]\n      max_instances: 2\n      provenance: inferred\n";

#[test]
fn a_small_user_model_parses() {
    let m = parse_gpu_model_yaml(SMALL, "user.yaml").unwrap();
    assert_eq!(m.mig.unwrap().profiles[0].starts, vec![0, 1]);
}

#[test]
fn bad_models_get_diagnostics_with_lines() {
    let e = error_of(&SMALL.replace("starts: [0, 1]", "starts: [0, 2]"));
    assert!(e.message.contains("runs past unit 1"), "{}", e.message);
    assert_eq!(e.line(), Some(9));

    let e = error_of(&SMALL.replace("name: X\n", "name: X\nbogus: 1\n"));
    assert!(e.message.contains("bogus"), "{}", e.message);
    assert_eq!(e.line(), Some(3));

    let e = error_of(&SMALL.replace("name: X\n", "name: X\npci_device_ids: [\"0x2330\"]\n"));
    assert!(e.message.contains("not a PCI id"), "{}", e.message);
    assert_eq!(e.line(), Some(3));

    let e = error_of(&SMALL.replace("key: x1", "key: X 1"));
    assert!(e.message.contains("lowercase"), "{}", e.message);
    assert_eq!(e.line(), Some(1));

    let e = error_of(&SMALL.replace("provenance: inferred", "provenance: guessed"));
    assert!(e.line().is_some(), "{}", e.message);

    let e = error_of("key: [");
    assert_eq!(e.code, "FP002", "{}", e.message);
}

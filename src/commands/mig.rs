//! `fabplan mig ...`: wiring from flags to the catalog and the layout engine, and rendering.

use std::fmt::Write as _;
use std::io::Write;
use std::path::{Path, PathBuf};

use serde_json::{json, Value};

use crate::catalog::{pci_id_text, Catalog, GpuModel};
use crate::cli::mig::{
    CheckArgs, CheckConfigArgs, FitArgs, GpuFiles, LayoutsArgs, MigArgs, MigCommand, MigFormat,
    ProfilesArgs, RuleFlags,
};
use crate::cli::output;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::formats::mig_parted;
use crate::mig::{self, Layout, MigTable, ProfileIdx, Rules};

pub fn run(args: MigArgs, out: &mut dyn Write) -> Result<Outcome> {
    let Some(path) = args.command.output().map(Path::to_path_buf) else {
        return dispatch(args, out);
    };
    // With `-o`, the output is rendered whole, then written atomically (nothing partial).
    let inputs = args.command.inputs();
    let inputs: Vec<&Path> = inputs.iter().map(PathBuf::as_path).collect();
    output::refuse_input_as_output(&path, &inputs)?;
    let mut buffer = Vec::new();
    let outcome = dispatch(args, &mut buffer)?;
    output::emit(out, Some(&path), &inputs, &buffer)?;
    Ok(outcome)
}

fn dispatch(args: MigArgs, out: &mut dyn Write) -> Result<Outcome> {
    match args.command {
        MigCommand::Profiles(a) => profiles(a, out),
        MigCommand::Layouts(a) => layouts(a, out),
        MigCommand::Check(a) => check(a, out),
        MigCommand::Fit(a) => fit(a, out),
        MigCommand::CheckConfig(a) => check_config(a, out),
    }
}

/// The built-in catalog plus `--gpu-file` models.
fn load_catalog(files: &GpuFiles) -> Result<Catalog> {
    let mut extra = Vec::new();
    for path in &files.gpu_files {
        let file =
            crate::source::read_input(path).map_err(|(file, d)| super::reject_input(&file, d))?;
        // Every problem of the file, each at its line (exit 2).
        match crate::catalog::load_gpu_model(&file) {
            (Some(model), _) => extra.push(model),
            (None, diags) => return Err(super::reject_input_all(&file, diags)),
        }
    }
    Ok(Catalog::builtin().with_models(extra))
}

fn find_gpu<'c>(catalog: &'c Catalog, name: &str) -> Result<&'c GpuModel> {
    catalog.gpu(name).ok_or_else(|| {
        Error::usage(
            format!("unknown GPU model `{name}`"),
            Some(format!(
                "{}; define another with --gpu-file FILE (docs/mig.md, or `fabplan import nvidia-smi`)",
                catalog.unknown_gpu_help(name)
            )),
        )
    })
}

fn mig_table(model: &GpuModel) -> Result<&MigTable> {
    model.mig.as_ref().ok_or_else(|| {
        Error::usage(
            format!("GPU model `{}` has no MIG profile table", model.key),
            Some("add a `mig:` section to its definition (docs/mig.md)".to_string()),
        )
    })
}

fn find_profile(model: &GpuModel, table: &MigTable, name: &str) -> Result<ProfileIdx> {
    table.profile_index(name).ok_or_else(|| {
        let names: Vec<&str> = table.profiles.iter().map(|p| p.name.as_str()).collect();
        Error::usage(
            format!("`{name}` is not a MIG profile of `{}`", model.key),
            Some(format!("its profiles are: {}", names.join(", "))),
        )
    })
}

fn rules_of(flags: &RuleFlags) -> Rules {
    Rules {
        media_engines: flags.media_engines,
        pre_r510: flags.pre_r510,
    }
}

/// `NAME=COUNT` -> (name, count); a bare `NAME` counts 1 when `bare_ok`.
fn name_count(text: &str, bare_ok: bool) -> Result<(String, u32)> {
    let bad = || {
        Error::usage(
            format!("`{text}` is not PROFILE=COUNT"),
            Some("write for example `1g.10gb=7` (COUNT a whole number)".to_string()),
        )
    };
    match text.split_once('=') {
        Some((n, c)) => {
            let count: u32 = c.trim().parse().map_err(|_| bad())?;
            if n.trim().is_empty() {
                return Err(bad());
            }
            Ok((n.trim().to_string(), count))
        }
        None if bare_ok && !text.trim().is_empty() => Ok((text.trim().to_string(), 1)),
        None => Err(bad()),
    }
}

fn emit(out: &mut dyn Write, text: String) -> Result<()> {
    output::emit(out, None, &[], text.as_bytes())
}

fn emit_json(out: &mut dyn Write, value: &Value) -> Result<()> {
    let mut text = serde_json::to_string_pretty(value).expect("JSON values always serialize");
    text.push('\n');
    emit(out, text)
}

fn layout_json(table: &MigTable, layout: &Layout) -> Value {
    Value::Array(
        layout
            .placements
            .iter()
            .map(|p| json!({"profile": table.profile(p.profile).name, "start": p.start}))
            .collect(),
    )
}

/// A picture of the units: `[4g.40gb 0-3][3g.40gb 4-7]`, free units as `.`.
fn unit_map(table: &MigTable, layout: &Layout) -> String {
    let mut s = String::new();
    let mut next = 0u8;
    for p in &layout.placements {
        for _ in next..p.start {
            s.push('.');
        }
        let size = table.profile(p.profile).size;
        let _ = write!(s, "[{}", table.profile(p.profile).name);
        if size > 1 {
            let _ = write!(s, " {}-{}]", p.start, p.start + size - 1);
        } else {
            let _ = write!(s, " {}]", p.start);
        }
        next = p.start + size;
    }
    for _ in next..table.placement_units {
        s.push('.');
    }
    s
}

fn opt<T: std::fmt::Display>(v: Option<T>) -> String {
    v.map(|x| x.to_string()).unwrap_or_else(|| "-".to_string())
}

/// Left-aligned columns, two spaces apart, no trailing spaces.
fn table_text(rows: &[Vec<String>]) -> String {
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|x| x.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut s = String::new();
    for r in rows {
        let mut line = String::from("  ");
        for (c, cell) in r.iter().enumerate() {
            line.push_str(cell);
            if c + 1 < r.len() {
                line.push_str(&" ".repeat(widths[c] - cell.chars().count() + 2));
            }
        }
        s.push_str(line.trim_end());
        s.push('\n');
    }
    s
}

fn profiles(a: ProfilesArgs, out: &mut dyn Write) -> Result<Outcome> {
    let catalog = load_catalog(&a.gpu.files)?;
    let model = find_gpu(&catalog, &a.gpu.gpu)?;
    let table = mig_table(model)?;
    match a.format {
        MigFormat::Json => {
            let value = json!({
                "key": model.key,
                "name": model.name,
                "aliases": model.aliases,
                "pci_device_ids": model.pci_device_ids.iter().map(|&id| pci_id_text(id)).collect::<Vec<_>>(),
                "memory_gib": model.memory_gib,
                "hbm_tbps": model.hbm_tbps,
                "tdp_w": model.tdp_w,
                "nvlink_gen": model.nvlink_gen,
                "nvlink_gbytes_per_s": model.nvlink_gbytes_per_s,
                "sources": model.sources,
                "mig": table,
            });
            emit_json(out, &value)?;
        }
        MigFormat::Human => {
            let mut s = String::new();
            let _ = writeln!(s, "{} ({})", model.key, model.name);
            let ids: Vec<String> = model
                .pci_device_ids
                .iter()
                .map(|&id| pci_id_text(id))
                .collect();
            let _ = writeln!(
                s,
                "  memory {} GiB, {} TB/s, {} W, NVLink gen {} at {} GB/s; PCI ids {}",
                model.memory_gib,
                model.hbm_tbps,
                model.tdp_w,
                model.nvlink_gen,
                model.nvlink_gbytes_per_s,
                if ids.is_empty() {
                    "-".to_string()
                } else {
                    ids.join(" ")
                }
            );
            let _ = writeln!(
                s,
                "  MIG: {} placement units, {} compute slices, {} memory slices{}",
                table.placement_units,
                table.compute_slices,
                table.memory_slices,
                match table.engine_totals {
                    Some(e) => format!(
                        "; engines DEC {} ENC {} JPEG {} OFA {}",
                        e.nvdec, e.nvenc, e.jpeg, e.ofa
                    ),
                    None => String::new(),
                }
            );
            s.push('\n');
            let mut rows = vec![[
                "profile",
                "id",
                "compute",
                "memory",
                "width",
                "starts",
                "max",
                "GiB",
                "SMs",
                "DEC/ENC/JPEG/OFA",
                "provenance",
            ]
            .iter()
            .map(|x| x.to_string())
            .collect::<Vec<_>>()];
            for p in &table.profiles {
                let starts: Vec<String> = p.starts.iter().map(|x| x.to_string()).collect();
                rows.push(vec![
                    p.name.clone(),
                    p.id.to_string(),
                    p.compute_slices.to_string(),
                    p.memory_slices.to_string(),
                    p.size.to_string(),
                    format!("{{{}}}", starts.join(",")),
                    p.max_instances.to_string(),
                    opt(p.memory_gib),
                    opt(p.sms),
                    match p.engines {
                        Some(e) => format!("{}/{}/{}/{}", e.nvdec, e.nvenc, e.jpeg, e.ofa),
                        None => "-".to_string(),
                    },
                    p.provenance.as_str().to_string(),
                ]);
            }
            s.push_str(&table_text(&rows));
            s.push_str("\nsources:\n");
            let mut seen: Vec<&str> = Vec::new();
            for p in &table.profiles {
                if !seen.contains(&p.source.as_str()) {
                    seen.push(&p.source);
                }
            }
            for src in model.sources.iter().map(String::as_str).chain(seen) {
                let _ = writeln!(s, "  - {src}");
            }
            emit(out, s)?;
        }
    }
    Ok(Outcome::Clean)
}

fn layouts(a: LayoutsArgs, out: &mut dyn Write) -> Result<Outcome> {
    let catalog = load_catalog(&a.gpu.files)?;
    let model = find_gpu(&catalog, &a.gpu.gpu)?;
    let full = mig_table(model)?;
    let restricted;
    let table = if a.profiles.is_empty() {
        full
    } else {
        let mut keep = Vec::new();
        for name in &a.profiles {
            let idx = find_profile(model, full, name)?;
            if !keep.contains(&idx) {
                keep.push(idx);
            }
        }
        restricted = full.restricted_to(&keep);
        &restricted
    };
    let rules = rules_of(&a.rules);
    let list = if a.maximal {
        mig::maximal_layouts(table, rules)
    } else {
        mig::enumerate_layouts(table, rules)
    };
    match a.format {
        MigFormat::Json => {
            let value = Value::Array(list.iter().map(|l| layout_json(table, l)).collect());
            emit_json(out, &value)?;
        }
        MigFormat::Human => {
            let mut s = String::new();
            let which = if a.maximal {
                "maximal layouts"
            } else {
                "layouts"
            };
            let profiles: Vec<&str> = table.profiles.iter().map(|p| p.name.as_str()).collect();
            let _ = writeln!(
                s,
                "{} {} on {} (profiles: {})",
                list.len(),
                which,
                model.key,
                profiles.join(", ")
            );
            let mut rows = Vec::new();
            for (i, l) in list.iter().enumerate() {
                rows.push(vec![(i + 1).to_string(), unit_map(table, l)]);
            }
            s.push_str(&table_text(&rows));
            emit(out, s)?;
        }
    }
    Ok(Outcome::Clean)
}

fn check(a: CheckArgs, out: &mut dyn Write) -> Result<Outcome> {
    let catalog = load_catalog(&a.gpu.files)?;
    let model = find_gpu(&catalog, &a.gpu.gpu)?;
    let table = mig_table(model)?;
    let mut request = Vec::new();
    for item in &a.profiles {
        for part in item.split(',').filter(|p| !p.trim().is_empty()) {
            let (name, count) = name_count(part, true)?;
            let idx = find_profile(model, table, &name)?;
            // Counts past the grid are refused by R2/R3 without building huge requests.
            let capped = count.min(table.placement_units as u32 + 1);
            request.extend(std::iter::repeat_n(idx, capped as usize));
            if count > capped {
                request.push(idx);
            }
        }
    }
    let rules = rules_of(&a.rules);
    let names: Vec<&str> = request
        .iter()
        .map(|&p| table.profile(p).name.as_str())
        .collect();
    let result = mig::place(table, rules, &request);
    match a.format {
        MigFormat::Json => {
            let value = match &result {
                Ok(layout) => json!({
                    "gpu": model.key,
                    "request": names,
                    "placeable": true,
                    "placements": layout_json(table, layout),
                    "used_units": layout.used_units(table),
                    "placement_units": table.placement_units,
                }),
                Err(why) => json!({
                    "gpu": model.key,
                    "request": names,
                    "placeable": false,
                    "rule": why.rule.code(),
                    "rule_title": why.rule.title(),
                    "why": why.why,
                }),
            };
            emit_json(out, &value)?;
        }
        MigFormat::Human => {
            let mut s = String::new();
            match &result {
                Ok(layout) => {
                    let _ = writeln!(
                        s,
                        "placeable on {}: {} instance(s), {} of {} units",
                        model.key,
                        layout.placements.len(),
                        layout.used_units(table),
                        table.placement_units
                    );
                    let mut rows = vec![vec![
                        "profile".to_string(),
                        "id".into(),
                        "start".into(),
                        "units".into(),
                    ]];
                    for p in &layout.placements {
                        let prof = table.profile(p.profile);
                        rows.push(vec![
                            prof.name.clone(),
                            prof.id.to_string(),
                            p.start.to_string(),
                            format!("{}-{}", p.start, p.start + prof.size - 1),
                        ]);
                    }
                    s.push_str(&table_text(&rows));
                    let _ = writeln!(s, "  map: {}", unit_map(table, layout));
                }
                Err(why) => {
                    let _ = writeln!(s, "not placeable on {}: {}", model.key, names.join(" "));
                    let _ = writeln!(s, "  rule {}: {}", why.rule, why.why);
                }
            }
            emit(out, s)?;
        }
    }
    Ok(if result.is_ok() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

fn fit(a: FitArgs, out: &mut dyn Write) -> Result<Outcome> {
    let catalog = load_catalog(&a.gpu.files)?;
    let model = find_gpu(&catalog, &a.gpu.gpu)?;
    let table = mig_table(model)?;
    let mut demand = vec![0u32; table.profiles.len()];
    for item in &a.need {
        if item.trim().is_empty() {
            continue;
        }
        let (name, count) = name_count(item, false)?;
        let idx = find_profile(model, table, &name)?;
        demand[idx.get()] = demand[idx.get()].saturating_add(count);
    }
    let rules = rules_of(&a.rules);
    let result = mig::fit(table, rules, &demand);
    let demand_json: serde_json::Map<String, Value> = table
        .profiles
        .iter()
        .zip(&demand)
        .filter(|(_, &n)| n > 0)
        .map(|(p, &n)| (p.name.clone(), json!(n)))
        .collect();
    match (&result, a.format) {
        (Ok(f), MigFormat::Json) => {
            let groups: Vec<Value> = f
                .groups
                .iter()
                .map(|g| {
                    json!({
                        "gpus": g.gpus,
                        "layout": layout_json(table, &g.layout),
                        "free_units": table.placement_units as u32 - g.layout.used_units(table),
                    })
                })
                .collect();
            emit_json(
                out,
                &json!({
                    "gpu": model.key,
                    "demand": demand_json,
                    "gpus": f.gpus,
                    "lower_bound": f.lower_bound,
                    "proven_minimal": f.proven_minimal,
                    "free_units": f.free_units,
                    "free_compute_slices": f.free_compute_slices,
                    "groups": groups,
                }),
            )?;
        }
        (Ok(f), MigFormat::Human) => {
            let mut s = String::new();
            let _ = writeln!(
                s,
                "{} GPU(s) of {} (lower bound {}, {})",
                f.gpus,
                model.key,
                f.lower_bound,
                if f.proven_minimal {
                    "proven minimal"
                } else {
                    "not proven minimal"
                }
            );
            let _ = writeln!(
                s,
                "  free after packing: {} placement units, {} compute slices",
                f.free_units, f.free_compute_slices
            );
            let mut rows = vec![vec![
                "GPUs".to_string(),
                "free units".into(),
                "layout".into(),
            ]];
            for g in &f.groups {
                rows.push(vec![
                    g.gpus.to_string(),
                    (table.placement_units as u32 - g.layout.used_units(table)).to_string(),
                    unit_map(table, &g.layout),
                ]);
            }
            s.push_str(&table_text(&rows));
            emit(out, s)?;
        }
        (Err(why), MigFormat::Json) => emit_json(
            out,
            &json!({
                "gpu": model.key,
                "demand": demand_json,
                "placeable": false,
                "rule": why.rule.code(),
                "rule_title": why.rule.title(),
                "why": why.why,
            }),
        )?,
        (Err(why), MigFormat::Human) => emit(
            out,
            format!(
                "demand cannot be hosted on {}\n  rule {}: {}\n",
                model.key, why.rule, why.why
            ),
        )?,
    }
    Ok(if result.is_ok() {
        Outcome::Clean
    } else {
        Outcome::Findings
    })
}

/// The verdict for one (config, entry, GPU) triple.
struct ConfigResult {
    config: String,
    entry: usize,
    line: usize,
    gpu: String,
    status: &'static str,
    detail: String,
    layout: Option<Value>,
}

fn check_config(a: CheckConfigArgs, out: &mut dyn Write) -> Result<Outcome> {
    let catalog = load_catalog(&a.files)?;
    let only = match &a.gpu {
        Some(name) => Some(find_gpu(&catalog, name)?.key.clone()),
        None => None,
    };
    // Every problem in the file is printed with its file, line and column (exit 2).
    let file =
        crate::source::read_input(&a.file).map_err(|(file, d)| super::reject_input(&file, d))?;
    let (config, diags) = mig_parted::parse(&file);
    let Some(config) = config else {
        return Err(super::reject_input_all(&file, diags));
    };
    let origin = file.name.clone();
    let rules = rules_of(&a.rules);
    let mut results: Vec<ConfigResult> = Vec::new();
    for (name, entries) in &config.configs {
        for (k, entry) in entries.iter().enumerate() {
            let mut push =
                |gpu: String, status: &'static str, detail: String, layout: Option<Value>| {
                    results.push(ConfigResult {
                        config: name.clone(),
                        entry: k + 1,
                        line: entry.line,
                        gpu,
                        status,
                        detail,
                        layout,
                    })
                };
            // (model, matched through a filter?)
            let mut targets: Vec<(&GpuModel, bool)> = Vec::new();
            if entry.device_filter.is_empty() {
                targets.extend(catalog.gpus().map(|m| (m, false)));
            } else {
                for f in &entry.device_filter {
                    let models: Vec<&GpuModel> = catalog.by_pci_id(f.device).collect();
                    if models.is_empty() && only.is_none() {
                        push(
                            pci_id_text(f.device),
                            "unknown-device",
                            "device id not in the GPU catalog (add a model with --gpu-file)"
                                .to_string(),
                            None,
                        );
                    }
                    for m in models {
                        if !targets.iter().any(|(t, _)| t.key == m.key) {
                            targets.push((m, true));
                        }
                    }
                }
            }
            for (model, filtered) in targets {
                if only.as_deref().is_some_and(|o| o != model.key) {
                    continue;
                }
                if !entry.mig_enabled {
                    push(
                        model.key.clone(),
                        "mig-disabled",
                        "MIG off: nothing to place".to_string(),
                        None,
                    );
                    continue;
                }
                let Some(table) = model.mig.as_ref() else {
                    push(
                        model.key.clone(),
                        "skipped",
                        "model has no MIG table".to_string(),
                        None,
                    );
                    continue;
                };
                let missing: Vec<&str> = entry
                    .mig_devices
                    .keys()
                    .filter(|n| table.profile_index(n).is_none())
                    .map(String::as_str)
                    .collect();
                if !missing.is_empty() {
                    let detail = format!("not a {} profile: {}", model.key, missing.join(", "));
                    push(
                        model.key.clone(),
                        if filtered {
                            "unknown-profile"
                        } else {
                            "skipped"
                        },
                        detail,
                        None,
                    );
                    continue;
                }
                let mut request = Vec::new();
                for (n, &count) in &entry.mig_devices {
                    let idx = table.profile_index(n).expect("checked above");
                    let capped = count.min(table.placement_units as u32 + 1);
                    request.extend(std::iter::repeat_n(idx, capped as usize));
                }
                match mig::place(table, rules, &request) {
                    Ok(layout) => {
                        let detail = if layout.placements.is_empty() {
                            "MIG on, no instances".to_string()
                        } else {
                            layout.describe(table)
                        };
                        push(
                            model.key.clone(),
                            "placeable",
                            detail,
                            Some(layout_json(table, &layout)),
                        )
                    }
                    Err(why) => push(
                        model.key.clone(),
                        "unplaceable",
                        format!("{}: {}", why.rule, why.why),
                        None,
                    ),
                }
            }
        }
    }
    let count = |status: &str| results.iter().filter(|r| r.status == status).count();
    let findings = count("unplaceable") + count("unknown-profile");
    match a.format {
        MigFormat::Json => {
            let list: Vec<Value> = results
                .iter()
                .filter(|r| a.show_skipped || r.status != "skipped")
                .map(|r| {
                    let mut v = json!({
                        "config": r.config,
                        "entry": r.entry,
                        "line": r.line,
                        "gpu": r.gpu,
                        "status": r.status,
                        "detail": r.detail,
                    });
                    if let Some(l) = &r.layout {
                        v["placements"] = l.clone();
                    }
                    v
                })
                .collect();
            emit_json(
                out,
                &json!({
                    "file": origin,
                    "configs": config.configs.len(),
                    "summary": {
                        "placeable": count("placeable"),
                        "unplaceable": count("unplaceable"),
                        "unknown_profile": count("unknown-profile"),
                        "unknown_device": count("unknown-device"),
                        "mig_disabled": count("mig-disabled"),
                        "skipped": count("skipped"),
                    },
                    "results": list,
                }),
            )?;
        }
        MigFormat::Human => {
            let mut s = String::new();
            let _ = writeln!(
                s,
                "{}: {} configs; {} placeable, {} unplaceable, {} unknown profile, {} unknown device id, {} MIG disabled, {} skipped (profiles not in that GPU's table)",
                origin,
                config.configs.len(),
                count("placeable"),
                count("unplaceable"),
                count("unknown-profile"),
                count("unknown-device"),
                count("mig-disabled"),
                count("skipped"),
            );
            let mut rows = vec![vec![
                "config".to_string(),
                "entry".into(),
                "line".into(),
                "gpu".into(),
                "status".into(),
                "detail".into(),
            ]];
            for r in results
                .iter()
                .filter(|r| a.show_skipped || r.status != "skipped")
            {
                rows.push(vec![
                    r.config.clone(),
                    r.entry.to_string(),
                    r.line.to_string(),
                    r.gpu.clone(),
                    r.status.to_string(),
                    r.detail.clone(),
                ]);
            }
            s.push_str(&table_text(&rows));
            emit(out, s)?;
        }
    }
    Ok(if findings > 0 {
        Outcome::Findings
    } else {
        Outcome::Clean
    })
}

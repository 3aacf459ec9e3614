//! `fabplan import <FORMAT>`: wiring from flags to the format adapters.

use std::io::Write;
use std::path::Path;

use crate::catalog::{parse_gpu_model_yaml, render_gpu_model_yaml, Catalog};
use crate::cli::import::{
    ImportArgs, ImportFormat, ImportTransport, NvidiaSmiArgs, OpenbImportArgs, SlurmImportArgs,
};
use crate::cli::output;
use crate::error::{Error, Result};
use crate::exit::Outcome;
use crate::formats::nvidia_smi::{self, Capture, ImportOptions};
use crate::source::SourceFile;

/// Reads an input file or stdin (`-`); an unreadable or non-UTF-8 input is printed as a
/// located diagnostic (exit 2).
fn read_input(path: &Path) -> Result<SourceFile> {
    crate::source::read_input(path).map_err(|(file, d)| super::reject_input(&file, d))
}

pub fn run(args: ImportArgs, out: &mut dyn Write) -> Result<Outcome> {
    match args.format {
        ImportFormat::NvidiaSmi(a) => import_nvidia_smi(a, out),
        ImportFormat::Slurm(a) => import_slurm(a, out),
        ImportFormat::Openb(a) => import_openb(a),
    }
}

fn read(path: &Path) -> Result<String> {
    // `-` is stdin, like every input; the load diagnostics (FP005-FP008, FP020) on stderr.
    crate::source::read_input(path)
        .map(|f| f.text.to_string())
        .map_err(|(file, d)| super::reject_input(&file, d))
}

/// The file name without directories: imports must not depend on where the capture sits.
fn file_name(path: &Path) -> String {
    path.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| path.display().to_string())
}

fn capture(f: &SourceFile) -> Capture<'_> {
    Capture {
        origin: &f.name,
        text: &f.text,
    }
}

fn import_nvidia_smi(a: NvidiaSmiArgs, out: &mut dyn Write) -> Result<Outcome> {
    let lgip_file = read_input(&a.lgip)?;
    let lgipp_file = read_input(&a.lgipp)?;
    let query_file = match &a.query {
        Some(p) => Some(read_input(p)?),
        None => None,
    };
    let (lgip, lgipp) = (capture(&lgip_file), capture(&lgipp_file));
    let query = query_file.as_ref().map(|f| capture(f));
    let options = ImportOptions {
        gpu_index: a.gpu_index,
        key: a.key.clone(),
    };
    let model =
        match nvidia_smi::import(&lgip, &lgipp, query.as_ref(), Catalog::builtin(), &options) {
            Ok(m) => m,
            Err(nvidia_smi::ImportErrors(errors)) => {
                // Each diagnostic is rendered against the file it is in; nothing is written.
                let color = crate::cli::output::stderr_color();
                let none = crate::source::Provenance::default();
                for (input, d) in &errors {
                    let file = match input {
                        nvidia_smi::Input::Lgip => &lgip_file,
                        nvidia_smi::Input::Lgipp => &lgipp_file,
                        nvidia_smi::Input::Query => query_file.as_ref().unwrap_or(&lgip_file),
                    };
                    eprint!(
                        "{}",
                        crate::cli::render::human(std::slice::from_ref(d), file, &none, color)
                    );
                }
                return Err(Error::InputRejected { count: 1 });
            }
        };
    let header = vec![format!(
        "imported by `fabplan import nvidia-smi` from {}",
        [
            Some(a.lgip.as_path()),
            Some(a.lgipp.as_path()),
            a.query.as_deref()
        ]
        .into_iter()
        .flatten()
        .map(file_name)
        .collect::<Vec<_>>()
        .join(", ")
    )];
    let yaml = render_gpu_model_yaml(&model, &header);
    // What we write must load back: check before writing anything.
    if let Err(e) = parse_gpu_model_yaml(&yaml, "<import output>") {
        return Err(Error::usage(
            format!("the imported model is not loadable: {}", e.message),
            Some("pass a valid --key (lowercase letters, digits, `-`)".to_string()),
        ));
    }
    let inputs: Vec<&Path> = [
        Some(a.lgip.as_path()),
        Some(a.lgipp.as_path()),
        a.query.as_deref(),
    ]
    .into_iter()
    .flatten()
    .collect();
    output::emit(out, a.output.as_deref(), &inputs, yaml.as_bytes())?;
    Ok(Outcome::Clean)
}

fn import_slurm(a: SlurmImportArgs, out: &mut dyn Write) -> Result<Outcome> {
    use crate::formats::slurm;
    if let Some(g) = &a.gpu {
        if Catalog::builtin().gpu(g).is_none() {
            return Err(Error::usage(
                format!("unknown GPU model `{g}`"),
                Some(Catalog::builtin().unknown_gpu_help(g)),
            ));
        }
        if a.gpus_per_node == 0 {
            return Err(Error::usage(
                "--gpus-per-node must be at least 1 with --gpu",
                None,
            ));
        }
    }
    if !(a.node_power_kw > 0.0 && a.node_power_kw.is_finite()) || a.link_gbps == 0 {
        return Err(Error::usage(
            "--node-power-kw and --link-gbps must be positive",
            None,
        ));
    }
    // Flags are checked first (usage errors), then the whole file: every problem is printed
    // with its file, line and column, and nothing is written.
    let file = read_input(&a.file)?;
    let (topo, diags) = slurm::parse(&file);
    let Some(topo) = topo else {
        return Err(super::reject_input_all(&file, diags));
    };
    // topology.yaml written by `export slurm` names its tree `<fabric>-tree`: keep the name.
    let from_tree = topo
        .tree_name
        .strip_suffix("-tree")
        .filter(|n| !n.is_empty())
        .map(str::to_string);
    let name = a.name.clone().or(from_tree).unwrap_or_else(|| {
        a.file
            .file_stem()
            .map(|s| s.to_string_lossy().into_owned())
            .filter(|s| s != "-")
            .unwrap_or_else(|| "slurm".to_string())
    });
    let options = slurm::SkeletonOptions {
        fabric_name: name,
        gpu: a
            .gpu
            .as_ref()
            .map(|g| Catalog::builtin().gpu(g).expect("checked").key.clone()),
        gpus_per_node: a.gpus_per_node,
        node_power_kw: a.node_power_kw,
        link_gbps: a.link_gbps,
        transport: match a.transport {
            ImportTransport::Infiniband => crate::model::Transport::Infiniband,
            ImportTransport::Roce => crate::model::Transport::Roce,
        },
    };
    let header = format!(
        "imported by `fabplan import slurm` from {}",
        file_name(&a.file)
    );
    let yaml = slurm::skeleton_yaml(&topo, &options, &header)
        .map_err(|m| Error::usage(m, Some("fix the topology file".to_string())))?;
    // What we write must load back: check before writing anything.
    loads(
        &crate::load::load_fabric_str("<import output>", &yaml),
        "the imported skeleton",
        Some("check switch and node names in the topology"),
    )?;
    output::emit(out, a.output.as_deref(), &[&a.file], yaml.as_bytes())?;
    Ok(Outcome::Clean)
}

fn import_openb(a: OpenbImportArgs) -> Result<Outcome> {
    use crate::formats::openb;
    if !(a.node_power_kw > 0.0 && a.node_power_kw.is_finite()) {
        return Err(Error::usage("--node-power-kw must be positive", None));
    }
    // Every problem of both lists is reported (file:line:col, code) before anything is written.
    let nodes_file = crate::source::SourceFile::new(file_name(&a.nodes), read(&a.nodes)?);
    let pods_file = crate::source::SourceFile::new(file_name(&a.pods), read(&a.pods)?);
    let (nodes, node_diags) = openb::parse_nodes(&nodes_file.text);
    let (mut pods, mut pod_diags) = openb::parse_pods(&pods_file.text);
    if let Some(n) = a.limit_pods {
        // The first N pods with GPUs, and the CPU-only pods among them.
        let mut with_gpus = 0;
        pods.retain(|p| {
            with_gpus += (p.num_gpu > 0) as usize;
            with_gpus <= n && !(p.num_gpu == 0 && with_gpus == n)
        });
    }
    if node_diags.is_empty() && pod_diags.is_empty() {
        pod_diags.extend(openb::check_specs(&pods, &nodes));
    }
    let color = output::stderr_color();
    let mut rejected = 0;
    for (file, diags) in [(&nodes_file, &node_diags), (&pods_file, &pod_diags)] {
        if !diags.is_empty() {
            rejected += 1;
            eprint!(
                "{}",
                crate::cli::render::human(
                    diags,
                    file,
                    &crate::source::Provenance::default(),
                    color
                )
            );
        }
    }
    if rejected > 0 {
        return Err(Error::InputRejected { count: rejected });
    }
    if nodes.is_empty() {
        return Err(Error::usage(
            format!("`{}` lists no GPU nodes", a.nodes.display()),
            None,
        ));
    }
    let header = format!(
        "imported by `fabplan import openb` from {} and {} (alibaba/clusterdata cluster-trace-gpu-v2023)",
        file_name(&a.nodes),
        file_name(&a.pods)
    );
    let name = a
        .output
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .filter(|n| !n.is_empty() && n != ".")
        .unwrap_or_else(|| "openb".into());
    let fabric = openb::fabric_yaml(&name, &nodes, a.node_power_kw, &header);
    let demand = openb::demand_yaml("fabric.yaml", &pods, &header);
    let codes: std::collections::BTreeSet<&str> = nodes.iter().map(|n| n.model.as_str()).collect();
    // Every file is rendered in memory first, relative to DIR.
    let mut files: Vec<(std::path::PathBuf, String)> = codes
        .iter()
        .map(|c| {
            (
                Path::new("gpus").join(format!("{}.yaml", openb::model_key(c))),
                openb::gpu_model_yaml(c),
            )
        })
        .collect();
    files.push(("fabric.yaml".into(), fabric));
    files.push(("demand.yaml".into(), demand));
    write_tree(&a.output, &files, &[&a.nodes, &a.pods], |staged| {
        loads(
            &crate::load::load_fabric_file(&staged.join("fabric.yaml")),
            "the imported fabric",
            None,
        )
    })?;
    let dir = &a.output;
    let with_gpus = openb::gpu_pods(&pods).count();
    let cpu_only = openb::cpu_pods(&pods).count();
    let empty = pods.len() - with_gpus - cpu_only;
    if !output::quiet() {
        eprintln!(
            "wrote {}/fabric.yaml ({} nodes, {} GPUs), {}/demand.yaml ({} pods with GPUs and {} CPU-only pods, one workload each{}), {} GPU model files",
            dir.display(),
            nodes.len(),
            nodes.iter().map(|n| n.gpus).sum::<u32>(),
            dir.display(),
            with_gpus,
            cpu_only,
            if empty > 0 {
                format!("; {empty} pods asking nothing left out")
            } else {
                String::new()
            },
            codes.len()
        );
    }
    Ok(Outcome::Clean)
}

/// What an import writes must load back: a usage error naming every load problem otherwise.
fn loads(loaded: &crate::load::LoadedFabric, what: &str, hint: Option<&str>) -> Result<(), Error> {
    if loaded.fabric.is_some() {
        return Ok(());
    }
    // A problem in a GPU model file the fabric references is named by that file, relative
    // to the fabric (the fabric itself may be in a staging directory).
    let dir = Path::new(&loaded.file.name).parent();
    let msgs: Vec<String> = loaded
        .diagnostics
        .iter()
        .map(|d| match crate::source::primary_file(d, &loaded.file) {
            f if std::ptr::eq(f, &loaded.file) => d.message.clone(),
            f => {
                let name = Path::new(&f.name);
                let name = dir.and_then(|d| name.strip_prefix(d).ok()).unwrap_or(name);
                format!("`{}`: {}", name.display(), d.message)
            }
        })
        .collect();
    Err(Error::usage(
        format!("{what} does not load: {}", msgs.join("; ")),
        hint.map(str::to_string),
    ))
}

/// Writes `files` (paths relative to `dir`) so that on any error nothing is left behind:
/// no output may be one of `inputs`; the files are first written to a staging directory
/// next to `dir` and `check`ed there (a fabric loads with its GPU model files); only then
/// is each written into `dir` (atomically, through `util::write_atomic`). If a final write
/// fails, the files and directories this run created are removed again.
fn write_tree(
    dir: &Path,
    files: &[(std::path::PathBuf, String)],
    inputs: &[&Path],
    check: impl FnOnce(&Path) -> Result<()>,
) -> Result<()> {
    for (rel, _) in files {
        output::refuse_input_as_output(&dir.join(rel), inputs)?;
    }
    let parent = match dir.parent() {
        Some(p) if !p.as_os_str().is_empty() => p.to_path_buf(),
        _ => std::path::PathBuf::from("."),
    };
    let name = dir
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| "out".into());
    let staging = parent.join(format!(".{name}.fabplan-staging-{}", std::process::id()));
    let write_err = |path: &Path| {
        let path = path.to_path_buf();
        move |source| Error::Write { path, source }
    };
    let staged = (|| {
        let _ = std::fs::remove_dir_all(&staging);
        for (rel, text) in files {
            let path = staging.join(rel);
            if let Some(d) = path.parent() {
                std::fs::create_dir_all(d).map_err(write_err(&dir.join(rel)))?;
            }
            std::fs::write(&path, text).map_err(write_err(&dir.join(rel)))?;
        }
        check(&staging)
    })();
    let _ = std::fs::remove_dir_all(&staging);
    staged?;
    // Directories and files that did not exist before, to remove if a write fails.
    let mut created: Vec<std::path::PathBuf> = Vec::new();
    let result = (|| {
        for (rel, text) in files {
            let path = dir.join(rel);
            let mut missing = Vec::new();
            let mut d = path.parent();
            while let Some(p) = d.filter(|p| !p.as_os_str().is_empty() && !p.exists()) {
                missing.push(p.to_path_buf());
                d = p.parent();
            }
            for m in missing.into_iter().rev() {
                std::fs::create_dir(&m).map_err(write_err(&m))?;
                created.push(m);
            }
            let existed = std::fs::symlink_metadata(&path).is_ok();
            crate::util::write_atomic(&path, text.as_bytes())?;
            if !existed {
                created.push(path);
            }
        }
        Ok(())
    })();
    if result.is_err() {
        for p in created.iter().rev() {
            let _ = std::fs::remove_file(p).or_else(|_| std::fs::remove_dir(p));
        }
    }
    result
}

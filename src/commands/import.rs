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
    std::fs::read_to_string(path).map_err(|source| Error::Read {
        path: path.to_path_buf(),
        source,
    })
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
    output::emit(out, a.output.as_deref(), yaml.as_bytes())?;
    Ok(Outcome::Clean)
}

fn import_slurm(a: SlurmImportArgs, out: &mut dyn Write) -> Result<Outcome> {
    use crate::formats::slurm;
    if let Some(g) = &a.gpu {
        if Catalog::builtin().gpu(g).is_none() {
            let known: Vec<&str> = Catalog::builtin().gpus().map(|m| m.key.as_str()).collect();
            return Err(Error::usage(
                format!("unknown GPU model `{g}`"),
                Some(format!("known models: {}", known.join(", "))),
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
    output::emit(out, a.output.as_deref(), yaml.as_bytes())?;
    Ok(Outcome::Clean)
}

fn import_openb(a: OpenbImportArgs) -> Result<Outcome> {
    use crate::formats::openb;
    if !(a.node_power_kw > 0.0 && a.node_power_kw.is_finite()) {
        return Err(Error::usage("--node-power-kw must be positive", None));
    }
    let bad = |m: String| {
        Error::usage(
            m,
            Some("pass the openb node list, then the pod list".to_string()),
        )
    };
    let nodes = openb::parse_nodes(&read(&a.nodes)?, &file_name(&a.nodes)).map_err(bad)?;
    let mut pods = openb::parse_pods(&read(&a.pods)?, &file_name(&a.pods)).map_err(bad)?;
    if let Some(n) = a.limit_pods {
        pods.truncate(n);
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
    // Everything is rendered before anything is written; each file is written atomically.
    let dir = &a.output;
    std::fs::create_dir_all(dir.join("gpus")).map_err(|source| Error::Write {
        path: dir.join("gpus"),
        source,
    })?;
    for c in &codes {
        crate::util::write_atomic(
            &dir.join("gpus")
                .join(format!("{}.yaml", openb::model_key(c))),
            openb::gpu_model_yaml(c).as_bytes(),
        )?;
    }
    crate::util::write_atomic(&dir.join("fabric.yaml"), fabric.as_bytes())?;
    crate::util::write_atomic(&dir.join("demand.yaml"), demand.as_bytes())?;
    loads(
        &crate::load::load_fabric_file(&dir.join("fabric.yaml")),
        "the imported fabric",
        None,
    )?;
    eprintln!(
        "wrote {}/fabric.yaml ({} nodes, {} GPUs), {}/demand.yaml ({} pods with GPUs), {} GPU model files",
        dir.display(),
        nodes.len(),
        nodes.iter().map(|n| n.gpus).sum::<u32>(),
        dir.display(),
        pods.len(),
        codes.len()
    );
    Ok(Outcome::Clean)
}

/// What an import writes must load back: a usage error naming every load problem otherwise.
fn loads(loaded: &crate::load::LoadedFabric, what: &str, hint: Option<&str>) -> Result<(), Error> {
    if loaded.fabric.is_some() {
        return Ok(());
    }
    let msgs: Vec<&str> = loaded
        .diagnostics
        .iter()
        .map(|d| d.message.as_str())
        .collect();
    Err(Error::usage(
        format!("{what} does not load: {}", msgs.join("; ")),
        hint.map(str::to_string),
    ))
}

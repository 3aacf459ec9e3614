//! Raw fabric -> model. Keeps going past problems so one run reports them all.

use std::collections::{BTreeMap, HashMap};

use serde_saphyr::Spanned;

use crate::catalog::switches::builtin_switch_models;
use crate::catalog::Catalog;
use crate::diag::{Diagnostic, Span};
use crate::limits::{self, Num, Range};
use crate::model::*;
use crate::schema::fabric::*;
use crate::source::{span_of, Provenance};
use crate::util::{expand_hostlist, hostlist_len, hostlist_matches};

/// What a name in the shared node/switch namespace refers to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Named {
    Node(NodeId),
    Switch(SwitchId),
}

pub(super) struct Builder {
    pub(super) fabric: Fabric,
    pub(super) prov: Provenance,
    pub(super) diags: Vec<Diagnostic>,
    pub(super) names: HashMap<String, (Named, Span)>,
    templates: HashMap<String, (TemplateId, Span)>,
    racks: HashMap<String, (RackId, Span)>,
    switch_models: HashMap<String, SwitchModelId>,
    sus: HashMap<String, SuId>,
    /// The builtin catalog plus the fabric's own `gpu_models:` files.
    catalog: Option<Catalog>,
    base_dir: Option<std::path::PathBuf>,
    /// Next free numbered port on each switch (intent expansion numbers ports from 1).
    pub(super) next_port: Vec<u32>,
    /// Numbered ports that explicit `links:` use, by switch name: intent expansion skips them
    /// so hand-cabled NICs and intent-made uplinks can share a switch.
    pub(super) reserved_ports: HashMap<String, std::collections::HashSet<u32>>,
    /// Names whose declaration was already reported as faulty (unknown template, tier or
    /// model): references to them are not reported again as undeclared.
    pub(super) faulty_names: std::collections::HashSet<String>,
    /// Fabric-wide budgets already reported as passed (`within_budget`).
    budgets_passed: std::collections::HashSet<&'static str>,
    /// Hostlists of names that were refused before they were declared (a hostlist or budget
    /// past its limit, FP015; an intent with a faulty value): references to those names are
    /// not reported again as FP004. Matched without expanding (`util::hostlist_matches`).
    refused: Vec<String>,
    /// Switch models whose definition was refused (a number out of range): references to
    /// them are not reported again as unknown.
    faulty_models: std::collections::HashSet<String>,
    /// Keys, names and aliases of GPU model files that did not load (lowercase): templates
    /// naming them are not reported again as naming an unknown model.
    faulty_gpu_models: std::collections::HashSet<String>,
    /// Whether a `gpu_models:` file was refused (an unknown model may be defined in it).
    gpu_model_files_refused: bool,
    /// Whether the racks' node groups, counted from their hostlists before any is expanded
    /// (`nodes_over_budget`), pass a fabric-wide node, GPU or NIC budget: then no group is
    /// expanded at all, and the one where a total is passed is reported (FP015).
    nodes_over_budget: bool,
    /// Nodes, GPUs and NIC ports of the groups counted so far (in file order), expanded or not.
    planned: [u64; 3],
}

/// What the per-hostlist budget counts (each hostlist is its own budget).
const HOSTLIST_NAMES: &str = "names from one hostlist";

pub(super) fn err(code: &'static str, message: impl Into<String>) -> Diagnostic {
    Diagnostic::error(code, message)
}

impl Builder {
    pub(super) fn new(base_dir: Option<std::path::PathBuf>) -> Self {
        Builder {
            catalog: None,
            base_dir,
            fabric: Fabric {
                name: String::new(),
                description: None,
                transport: Transport::Infiniband,
                converged: false,
                templates: Vec::new(),
                racks: Vec::new(),
                nodes: Vec::new(),
                gpus: Vec::new(),
                nics: Vec::new(),
                switch_models: Vec::new(),
                switches: Vec::new(),
                links: Vec::new(),
                nvlink_domains: Vec::new(),
                sus: Vec::new(),
                lossless: None,
                site: Site::default(),
                gpu_models: Vec::new(),
            },
            prov: Provenance::default(),
            diags: Vec::new(),
            names: HashMap::new(),
            templates: HashMap::new(),
            racks: HashMap::new(),
            switch_models: HashMap::new(),
            sus: HashMap::new(),
            next_port: Vec::new(),
            reserved_ports: HashMap::new(),
            faulty_names: std::collections::HashSet::new(),
            budgets_passed: std::collections::HashSet::new(),
            refused: Vec::new(),
            faulty_models: std::collections::HashSet::new(),
            faulty_gpu_models: std::collections::HashSet::new(),
            gpu_model_files_refused: false,
            nodes_over_budget: false,
            planned: [0; 3],
        }
    }

    pub(super) fn finish(self) -> (Fabric, Provenance, Vec<Diagnostic>) {
        (self.fabric, self.prov, self.diags)
    }

    pub(super) fn push(&mut self, d: Diagnostic) {
        self.diags.push(d);
    }

    pub(super) fn build(&mut self, raw: RawFabric) {
        self.fabric.name = raw.fabric.value.clone();
        self.prov.entity(Entity::Fabric, span_of(&raw.fabric));
        self.fabric.description = raw.description;
        self.fabric.converged = raw.converged;
        if let Some(t) = &raw.transport {
            match t.value.as_str() {
                "infiniband" | "ib" => self.fabric.transport = Transport::Infiniband,
                "roce" | "ethernet" => self.fabric.transport = Transport::Roce,
                other => self.push(
                    err("FP009", format!("unknown transport `{other}`"))
                        .at(span_of(t), "not a transport")
                        .help("use `infiniband` or `roce`"),
                ),
            }
        } else if raw.lossless.is_some() {
            self.fabric.transport = Transport::Roce;
        }
        if let Some(site) = &raw.site {
            self.site(site);
        }
        self.gpu_models(&raw.gpu_models);
        self.switch_models(&raw.switch_models);
        for t in &raw.node_templates {
            self.template(t);
        }
        self.nodes_over_budget = self.nodes_over_budget(&raw.racks);
        for r in &raw.racks {
            self.rack(r);
        }
        for s in &raw.switches {
            self.switch_group(s);
        }
        self.next_port = vec![0; self.fabric.switches.len()];
        for l in &raw.links {
            for ep in [&l.a.value, &l.b.value] {
                if let Some((name, port)) = ep.rsplit_once(':') {
                    if let PortName::Num(n) = PortName::parse(port) {
                        self.reserved_ports
                            .entry(name.to_string())
                            .or_default()
                            .insert(n);
                    }
                }
            }
        }
        for i in &raw.intent {
            self.intent(i);
        }
        for l in &raw.links {
            self.link(l);
        }
        if let Some(l) = &raw.lossless {
            self.lossless(l);
        }
        for (i, link) in self.fabric.links.iter().enumerate() {
            for ep in [&link.a, &link.b] {
                if let Endpoint::Nic(nic) = ep {
                    self.fabric.nics[nic.index()]
                        .link
                        .get_or_insert(LinkId::from_index(i));
                }
            }
        }
    }

    fn catalog(&self) -> &Catalog {
        self.catalog.as_ref().unwrap_or(Catalog::builtin())
    }

    fn gpu_models(&mut self, files: &[Spanned<String>]) {
        let mut models = Vec::new();
        for f in files {
            let path = match &self.base_dir {
                Some(dir) => dir.join(&f.value),
                None => std::path::PathBuf::from(&f.value),
            };
            // Problems of the model file are reported in it (each at its line in that file),
            // with a note on this entry of the fabric: the diagnostics keep the file's text.
            let referenced =
                |mut d: Diagnostic, file: &std::sync::Arc<crate::source::SourceFile>| {
                    if d.labels.is_empty() {
                        // Nothing to point at in the file (it is empty): name it.
                        d.message = format!("GPU model file `{}`: {}", f.value, d.message);
                    }
                    d.in_file(file).also_at(
                        span_of(f),
                        format!("GPU model file `{}` referenced here", f.value),
                    )
                };
            let file = match crate::source::read_source(&path) {
                Ok(file) => std::sync::Arc::new(file),
                Err((_, d)) if d.code == "FP008" => {
                    self.push(
                        err(
                            "FP004",
                            format!(
                                "cannot read GPU model file `{}`: {}",
                                f.value,
                                // The reason alone (`read_source` names the path first).
                                d.message
                                    .rsplit_once(": ")
                                    .map_or(&*d.message, |(_, why)| why)
                            ),
                        )
                        .at(span_of(f), "GPU model file")
                        .help("paths in `gpu_models:` are relative to the fabric file"),
                    );
                    continue;
                }
                Err((file, d)) => {
                    let file = std::sync::Arc::new(file);
                    self.push(referenced(d, &file));
                    continue;
                }
            };
            let (model, diags) = crate::catalog::load_gpu_model(&file);
            if model.is_none() {
                self.gpu_model_files_refused = true;
                self.faulty_gpu_models
                    .extend(crate::catalog::declared_gpu_names(&file));
            }
            for d in diags {
                self.push(referenced(d, &file));
            }
            models.extend(model);
        }
        if !models.is_empty() {
            self.catalog = Some(Catalog::builtin().with_models(models));
        }
    }

    fn site(&mut self, site: &Spanned<RawSite>) {
        self.prov.entity(Entity::Site, span_of(site));
        let s = &site.value;
        if let Some(v) = &s.air_cooling_limit_kw {
            if self.in_range(v, "air_cooling_limit_kw", &limits::AIR_COOLING_KW) {
                self.fabric.site.air_cooling_limit_kw = v.value;
            }
        }
        if let Some(v) = &s.power_derate {
            if self.in_range(v, "power_derate", &limits::POWER_DERATE) {
                self.fabric.site.power_derate = v.value;
                self.prov.field(Entity::Site, "power_derate", span_of(v));
            }
        }
        if let Some(v) = &s.su_power_kw {
            if self.in_range(v, "su_power_kw", &limits::SU_POWER_KW) {
                self.fabric.site.su_power_kw = Some(v.value);
                self.prov.field(Entity::Site, "su_power_kw", span_of(v));
            }
        }
    }

    /// Checks a number against its range (`crate::limits`, listed in docs/limits.md);
    /// reports FP009 on the value, with the valid range and its reason, otherwise.
    pub(super) fn in_range<T: Num>(&mut self, v: &Spanned<T>, key: &str, r: &Range) -> bool {
        self.value_in_range(v.value, span_of(v), key, r)
    }

    /// A template's CPU (`cpu_cores` or `cpu_millicores`, not both) and memory (`memory_gib`),
    /// in millicores and MiB; absent values mean not limited.
    fn node_resources(&mut self, t: &RawNodeTemplate, name: &str) -> (Option<u64>, Option<u64>) {
        let cpu = match (&t.cpu_cores, &t.cpu_millicores) {
            (Some(c), Some(_)) => {
                self.push(
                    err(
                        "FP009",
                        format!("node template `{name}` has both `cpu_cores` and `cpu_millicores`"),
                    )
                    .at(span_of(c), "cores here")
                    .help("give the CPU once, in cores or in millicores"),
                );
                None
            }
            (Some(c), None) => self
                .in_range(c, "cpu_cores", &limits::NODE_CPU_CORES)
                .then(|| (c.value * 1000.0).round() as u64),
            (None, Some(m)) => self
                .value_in_range(
                    m.value as f64 / 1000.0,
                    span_of(m),
                    "cpu_millicores / 1000",
                    &limits::NODE_CPU_CORES,
                )
                .then_some(m.value),
            (None, None) => None,
        };
        let mem = t.memory_gib.as_ref().and_then(|m| {
            self.in_range(m, "memory_gib", &limits::NODE_MEMORY_GIB)
                .then(|| (m.value * 1024.0).round() as u64)
        });
        (cpu, mem)
    }

    /// `in_range` for a value whose span is given (an element of a list, a map entry).
    pub(super) fn value_in_range<T: Num>(
        &mut self,
        value: T,
        span: Span,
        key: &str,
        r: &Range,
    ) -> bool {
        if r.contains(value.as_f64()) {
            return true;
        }
        let label = if value.as_f64().is_finite() {
            "out of range"
        } else {
            "not a finite number"
        };
        self.push(
            err(
                "FP009",
                format!("`{key}` {}", limits::out_of_range(value, r)),
            )
            .at(span, label)
            .help(format!(
                "valid range for `{key}`: {} ({})",
                r.describe(),
                r.why
            )),
        );
        false
    }

    /// Refuses an expansion whose computed `count` is past `limit` (FP015). A fabric-wide
    /// total (nodes, GPUs, switches, links) is reported once, at the first place it is passed.
    pub(super) fn within_budget(
        &mut self,
        count: u64,
        what: &'static str,
        limit: u64,
        span: Span,
        label: &str,
    ) -> bool {
        if count <= limit {
            return true;
        }
        if !self.budgets_passed.insert(what) {
            return false;
        }
        self.push(
            err(
                "FP015",
                if what == HOSTLIST_NAMES {
                    limits::over_hostlist_budget(count)
                } else {
                    limits::over_budget(count, what, limit)
                },
            )
            .at(span, label.to_string())
            .help(limits::budget_help(what, limit)),
        );
        false
    }

    fn switch_models(&mut self, raw: &[RawSwitchModel]) {
        let mut models: BTreeMap<String, (SwitchModel, Option<Span>)> = builtin_switch_models()
            .into_iter()
            .map(|m| (m.name.clone(), (m, None)))
            .collect();
        let mut seen: HashMap<String, Span> = HashMap::new();
        for m in raw {
            let name = m.id.value.clone();
            if let Some(prev) = seen.get(&name) {
                self.push(
                    err("FP003", format!("switch model `{name}` is defined twice"))
                        .at(span_of(&m.id), "defined again here")
                        .also_at(*prev, "first defined here")
                        .help("give each switch model a unique id"),
                );
                continue;
            }
            seen.insert(name.clone(), span_of(&m.id));
            let ok = self.in_range(&m.ports, "ports", &limits::SWITCH_PORTS)
                & self.in_range(&m.port_gbps, "port_gbps", &limits::GBPS);
            if !ok {
                self.faulty_models.insert(name);
                continue;
            }
            let breakout = m
                .breakout_gbps
                .as_ref()
                .map(|b| b.value)
                .unwrap_or(m.port_gbps.value);
            if breakout == 0 || breakout > m.port_gbps.value || m.port_gbps.value % breakout != 0 {
                let span = m
                    .breakout_gbps
                    .as_ref()
                    .map(span_of)
                    .unwrap_or(span_of(&m.id));
                self.push(
                    err("FP009", format!("`breakout_gbps` {breakout} does not divide `port_gbps` {}", m.port_gbps.value))
                        .at(span, "not a breakout of the port speed")
                        .help("a 800G port breaks out to 2 x 400G or 4 x 200G: use a divisor of `port_gbps`"),
                );
                self.faulty_models.insert(name);
                continue;
            }
            let power_w = match &m.power_w {
                Some(p) if self.in_range(p, "power_w", &limits::SWITCH_POWER_W) => p.value,
                Some(_) => {
                    self.faulty_models.insert(name);
                    continue;
                }
                None => 0.0,
            };
            models.insert(
                name.clone(),
                (
                    SwitchModel {
                        name,
                        ports: m.ports.value,
                        port_gbps: m.port_gbps.value,
                        breakout_gbps: breakout,
                        power_w,
                    },
                    Some(span_of(&m.id)),
                ),
            );
        }
        for (i, (name, (model, span))) in models.into_iter().enumerate() {
            let id = SwitchModelId::from_index(i);
            if let Some(span) = span {
                self.prov.entity(Entity::SwitchModel(id), span);
            }
            self.switch_models.insert(name, id);
            self.fabric.switch_models.push(model);
        }
    }

    pub(super) fn switch_model(&mut self, name: &Spanned<String>) -> Option<SwitchModelId> {
        if let Some(id) = self
            .switch_models
            .get(&name.value.to_ascii_lowercase())
            .or(self.switch_models.get(&name.value))
        {
            return Some(*id);
        }
        if self.faulty_models.contains(&name.value) {
            return None;
        }
        let known: Vec<&str> = self
            .fabric
            .switch_models
            .iter()
            .map(|m| m.name.as_str())
            .collect();
        let help = format!(
            "known switch models: {}; define others under `switch_models:`",
            known.join(", ")
        );
        self.push(
            err("FP004", format!("unknown switch model `{}`", name.value))
                .at(span_of(name), "not a known switch model")
                .help(help),
        );
        None
    }

    fn template(&mut self, t: &RawNodeTemplate) {
        let name = t.id.value.clone();
        if let Some((_, prev)) = self.templates.get(&name) {
            let prev = *prev;
            self.push(
                err("FP003", format!("node template `{name}` is defined twice"))
                    .at(span_of(&t.id), "defined again here")
                    .also_at(prev, "first defined here")
                    .help("give each node template a unique id"),
            );
            return;
        }
        let id = TemplateId::from_index(self.fabric.templates.len());
        let entity = Entity::Template(id);
        let mut ok = true;
        let role = match t.role.as_ref().map(|r| r.value.as_str()) {
            None | Some("compute") => NodeRole::Compute,
            Some("management") | Some("ufm") | Some("storage") | Some("service") => {
                NodeRole::Management
            }
            Some(other) => {
                self.push(
                    err("FP009", format!("unknown node role `{other}`"))
                        .at(span_of(t.role.as_ref().expect("some")), "not a role")
                        .help("use `compute` (GPU servers) or `management` (UFM, storage, service hosts)"),
                );
                ok = false;
                NodeRole::Compute
            }
        };
        let mut gpus = t.gpus.as_ref().map(|g| g.value).unwrap_or(0);
        if let Some(g) = &t.gpus {
            if !self.in_range(g, "gpus", &limits::GPUS_PER_NODE) {
                // Keep going with no GPUs, so a huge count allocates nothing.
                gpus = 0;
                ok = false;
            }
        }
        let mut gpu_model = String::new();
        match &t.gpu {
            Some(g) => match self.catalog().gpu(&g.value).cloned() {
                Some(m) => {
                    gpu_model = m.key.clone();
                    if !self.fabric.gpu_models.iter().any(|k| k.key == m.key) {
                        self.fabric.gpu_models.push(m);
                    }
                }
                None if self
                    .faulty_gpu_models
                    .contains(&g.value.trim().to_ascii_lowercase()) =>
                {
                    // Its file was refused, and said why.
                    ok = false;
                }
                None => {
                    let mut help = self.catalog().unknown_gpu_help(&g.value);
                    if self.gpu_model_files_refused {
                        help.push_str("; a `gpu_models:` file that was refused may define it");
                    }
                    self.push(
                        err("FP004", format!("unknown GPU model `{}`", g.value))
                            .at(span_of(g), "not in the GPU catalog")
                            .help(help),
                    );
                    ok = false;
                }
            },
            None if gpus > 0 => {
                self.push(
                    err(
                        "FP002",
                        format!("node template `{name}` has {gpus} GPUs but no `gpu` model"),
                    )
                    .at(span_of(&t.id), "template declared here")
                    .help("add `gpu: <catalog key>`, e.g. `gpu: h100-80gb`"),
                );
                ok = false;
            }
            None => {}
        }
        if t.gpu.is_some() && gpus == 0 && ok {
            self.push(
                err(
                    "FP009",
                    format!("node template `{name}` names a GPU model but `gpus` is missing or 0"),
                )
                .at(
                    t.gpus.as_ref().map(span_of).unwrap_or(span_of(&t.id)),
                    "no GPUs",
                )
                .help("give the number of GPUs per node, e.g. `gpus: 8`"),
            );
            ok = false;
        }
        let nvlink = match t.nvlink.as_ref().map(|n| n.value.as_str()) {
            None | Some("none") => NvlinkKind::None,
            Some("hgx8") | Some("hgx") => NvlinkKind::Hgx8,
            Some("nvl72-tray") | Some("nvl72") => NvlinkKind::Nvl72Tray,
            Some(other) => {
                self.push(
                    err("FP009", format!("unknown NVLink kind `{other}`"))
                        .at(span_of(t.nvlink.as_ref().expect("some")), "not an NVLink kind")
                        .help("use `hgx8` (8-GPU baseboard), `nvl72-tray` (a tray of an NVL72 rack) or `none`"),
                );
                ok = false;
                NvlinkKind::None
            }
        };
        ok &= self.in_range(&t.power_kw, "power_kw", &limits::NODE_POWER_KW);
        let price = match &t.price_usd_per_hour {
            Some(p) if self.in_range(p, "price_usd_per_hour", &limits::PRICE_USD_PER_HOUR) => {
                Some(p.value)
            }
            Some(_) => {
                ok = false;
                None
            }
            None => None,
        };
        let (cpu_millicores, memory_mib) = self.node_resources(t, &name);
        let mut nics = Vec::new();
        match (&t.rail_nics, t.nics.is_empty()) {
            (Some(r), false) => {
                self.push(
                    err(
                        "FP009",
                        format!("node template `{name}` has both `nics` and `rail_nics`"),
                    )
                    .at(span_of(r), "shorthand here")
                    .help("list the ports under `nics` or use the `rail_nics` shorthand, not both"),
                );
                ok = false;
            }
            (Some(r), true) => {
                let mut planes = r.value.planes.as_ref().map(|p| p.value).unwrap_or(1);
                if let Some(p) = &r.value.planes {
                    if !self.in_range(p, "planes", &limits::PLANES) {
                        // Go on with one plane: the template is reported, not its users.
                        planes = 1;
                        ok = false;
                    }
                }
                ok &= self.in_range(&r.value.gbps, "gbps", &limits::GBPS);
                for g in 0..gpus {
                    for p in 0..planes {
                        nics.push(NicPort {
                            port: if planes == 1 {
                                format!("nic{g}")
                            } else {
                                format!("nic{g}p{p}")
                            },
                            gpu: Some(g),
                            gbps: r.value.gbps.value,
                            plane: p,
                        });
                    }
                }
            }
            (None, _) => {
                let mut seen: HashMap<&str, Span> = HashMap::new();
                for n in &t.nics {
                    let port = n.value.port.value.as_str();
                    if let Some(prev) = seen.get(port) {
                        self.push(
                            err(
                                "FP003",
                                format!("port `{port}` is listed twice in node template `{name}`"),
                            )
                            .at(span_of(&n.value.port), "listed again here")
                            .also_at(*prev, "first listed here")
                            .help("give each NIC port a unique name"),
                        );
                        ok = false;
                        continue;
                    }
                    seen.insert(port, span_of(&n.value.port));
                    if let Some(g) = &n.value.gpu {
                        if g.value >= gpus {
                            self.push(
                                err("FP009", format!("port `{port}` serves GPU {} but the template has {gpus} GPUs", g.value))
                                    .at(span_of(g), "no such GPU")
                                    .help(format!("GPU indices run from 0 to {}", gpus.saturating_sub(1))),
                            );
                            ok = false;
                        }
                    }
                    ok &= self.in_range(&n.value.gbps, "gbps", &limits::GBPS);
                    if let Some(p) = &n.value.plane {
                        ok &= self.in_range(p, "plane", &limits::PLANE);
                    }
                    nics.push(NicPort {
                        port: port.to_string(),
                        gpu: n.value.gpu.as_ref().map(|g| g.value),
                        gbps: n.value.gbps.value,
                        plane: n.value.plane.as_ref().map(|p| p.value).unwrap_or(0),
                    });
                }
            }
        }
        self.prov.entity(entity, span_of(&t.id));
        self.prov.field(entity, "power_kw", span_of(&t.power_kw));
        if let Some(g) = &t.gpus {
            self.prov.field(entity, "gpus", span_of(g));
        }
        if let Some(n) = &t.nvlink {
            self.prov.field(entity, "nvlink", span_of(n));
        }
        if let Some(n) = t.nics.first() {
            self.prov.field(entity, "nics", span_of(n));
        } else if let Some(r) = &t.rail_nics {
            self.prov.field(entity, "nics", span_of(r));
        }
        self.templates.insert(name.clone(), (id, span_of(&t.id)));
        let _ = ok; // a faulty template is still registered so its users do not cascade errors
        self.fabric.templates.push(NodeTemplate {
            name,
            role,
            gpu_model,
            gpus,
            nvlink,
            power_kw: t.power_kw.value,
            price_usd_per_hour: price,
            cpu_millicores,
            memory_mib,
            nics,
        });
    }

    pub(super) fn su(&mut self, name: &str) -> SuId {
        if let Some(id) = self.sus.get(name) {
            return *id;
        }
        let id = SuId::from_index(self.fabric.sus.len());
        self.fabric.sus.push(name.to_string());
        self.sus.insert(name.to_string(), id);
        id
    }

    pub(super) fn rack_ref(&mut self, name: &Spanned<String>) -> Option<RackId> {
        match self.racks.get(&name.value) {
            Some((id, _)) => Some(*id),
            None => {
                self.push(
                    err("FP004", format!("unknown rack `{}`", name.value))
                        .at(span_of(name), "no rack with this id")
                        .help("declare the rack under `racks:` or fix the id"),
                );
                None
            }
        }
    }

    /// Registers a node or switch name; reports a duplicate.
    pub(super) fn register_name(&mut self, name: &str, what: Named, span: Span) -> bool {
        if let Some((prev, prev_span)) = self.names.get(name) {
            let kind = |n: &Named| match n {
                Named::Node(_) => "node",
                Named::Switch(_) => "switch",
            };
            let d = err(
                "FP003",
                format!(
                    "`{name}` is declared twice (as a {} and as a {})",
                    kind(prev),
                    kind(&what)
                ),
            )
            .at(span, "declared again here")
            .also_at(*prev_span, "first declared here")
            .help("node and switch names share one namespace; give each a unique name");
            self.push(d);
            return false;
        }
        self.names.insert(name.to_string(), (what, span));
        true
    }

    /// How many names a hostlist expands to, without expanding it; reports a malformed
    /// hostlist (FP009) or one past the hostlist budget (FP015).
    pub(super) fn hostlist_count(&mut self, list: &Spanned<String>) -> Option<u64> {
        match hostlist_len(&list.value) {
            Ok(n) => {
                let fits = self.within_budget(
                    n,
                    HOSTLIST_NAMES,
                    limits::MAX_HOSTLIST_NAMES,
                    span_of(list),
                    "expands past the limit",
                );
                // Every hostlist is its own budget: report each one past it.
                self.budgets_passed.remove(HOSTLIST_NAMES);
                if !fits {
                    self.refuse(&list.value);
                }
                fits.then_some(n)
            }
            Err(e) => {
                self.push(
                    err("FP009", format!("invalid hostlist: {}", e.0))
                        .at(span_of(list), "not a hostlist")
                        .help("write names as a Slurm hostlist, e.g. `dgx[01-32]` or `a,b,c`"),
                );
                None
            }
        }
    }

    /// Records that the names of `pattern` were not declared because a problem was reported.
    pub(super) fn refuse(&mut self, pattern: &str) {
        self.refused.push(pattern.to_string());
    }

    /// Whether `name` belongs to a refused hostlist (its users are not reported again).
    pub(super) fn is_refused(&self, name: &str) -> bool {
        self.refused.iter().any(|p| hostlist_matches(p, name))
    }

    /// Whether any declaration was refused (tier-wide references cannot be matched by name).
    pub(super) fn any_refused(&self) -> bool {
        !self.refused.is_empty()
    }

    /// Refuses `extra` more switches past the switch budget (FP015).
    pub(super) fn switch_budget(&mut self, extra: u64, span: Span) -> bool {
        let count = limits::add(self.fabric.switches.len() as u64, extra);
        self.within_budget(
            count,
            "switches",
            limits::MAX_SWITCHES,
            span,
            "these switches",
        )
    }

    /// Refuses `extra` more links past the link budget (FP015).
    pub(super) fn link_budget(&mut self, extra: u64, span: Span) -> bool {
        let count = limits::add(self.fabric.links.len() as u64, extra);
        self.within_budget(count, "links", limits::MAX_LINKS, span, "these links")
    }

    pub(super) fn expand(&mut self, list: &Spanned<String>) -> Option<Vec<String>> {
        self.hostlist_count(list)?;
        match expand_hostlist(&list.value) {
            Ok(v) => Some(v),
            Err(e) => {
                self.push(
                    err("FP009", format!("invalid hostlist: {}", e.0))
                        .at(span_of(list), "not a hostlist")
                        .help("write names as a Slurm hostlist, e.g. `dgx[01-32]` or `a,b,c`"),
                );
                None
            }
        }
    }

    /// Counts the nodes, GPUs and NIC ports of every rack's node groups from their hostlists,
    /// in file order and without expanding any (the groups `rack` would count: first rack of
    /// each id, known template, valid hostlist within its own budget), and tells whether a
    /// total passes its fabric-wide budget. A file past the node budget is refused without
    /// allocating the groups before the one that passes it (6,000,003 nodes in two groups
    /// cost 7 s and 750 MB when the first group was expanded first).
    fn nodes_over_budget(&self, racks: &[RawRack]) -> bool {
        let mut seen = std::collections::HashSet::new();
        let mut total = [0u64; 3];
        for r in racks {
            if self.racks.contains_key(&r.id.value) || !seen.insert(r.id.value.as_str()) {
                continue;
            }
            for group in &r.nodes {
                let Some((tid, _)) = self.templates.get(&group.value.template.value) else {
                    continue;
                };
                let Ok(count) = hostlist_len(&group.value.ids.value) else {
                    continue;
                };
                if count > limits::MAX_HOSTLIST_NAMES {
                    continue;
                }
                let t = &self.fabric.templates[tid.index()];
                for (i, per) in [1, t.gpus as u64, t.nics.len() as u64]
                    .into_iter()
                    .enumerate()
                {
                    total[i] = limits::add(total[i], limits::mul(count, per));
                }
            }
        }
        total[0] > limits::MAX_NODES || total[1] > limits::MAX_GPUS || total[2] > limits::MAX_NICS
    }

    fn rack(&mut self, r: &RawRack) {
        let name = r.id.value.clone();
        if let Some((_, prev)) = self.racks.get(&name) {
            let prev = *prev;
            self.push(
                err("FP003", format!("rack `{name}` is declared twice"))
                    .at(span_of(&r.id), "declared again here")
                    .also_at(prev, "first declared here")
                    .help("give each rack a unique id"),
            );
            return;
        }
        let id = RackId::from_index(self.fabric.racks.len());
        let entity = Entity::Rack(id);
        self.prov.entity(entity, span_of(&r.id));
        self.prov.field(entity, "power_kw", span_of(&r.power_kw));
        self.in_range(&r.power_kw, "power_kw", &limits::RACK_POWER_KW);
        let cooling = match r.cooling.as_ref().map(|c| c.value.as_str()) {
            None | Some("air") => Cooling::Air,
            Some("liquid") => Cooling::Liquid,
            Some(other) => {
                self.push(
                    err("FP009", format!("unknown cooling `{other}`"))
                        .at(
                            span_of(r.cooling.as_ref().expect("some")),
                            "not a cooling kind",
                        )
                        .help("use `air` or `liquid`"),
                );
                Cooling::Air
            }
        };
        if let Some(c) = &r.cooling {
            self.prov.field(entity, "cooling", span_of(c));
        }
        let su = r.su.as_ref().map(|s| self.su(&s.value));
        self.racks.insert(name.clone(), (id, span_of(&r.id)));
        self.fabric.racks.push(Rack {
            name,
            power_kw: r.power_kw.value,
            cooling,
            position: r.position.as_ref().map(|p| p.value.clone()),
            su,
            nodes: Vec::new(),
            switches: Vec::new(),
            nvlink_domain: None,
        });
        let mut rack_domain = None;
        if let Some(d) = &r.nvlink_domain {
            self.prov.field(entity, "nvlink_domain", span_of(d));
            match d.value.kind.value.as_str() {
                "nvl72" | "nvl36" => {
                    if let Some(t) = &d.value.switch_trays {
                        self.in_range(t, "switch_trays", &limits::SWITCH_TRAYS);
                    }
                    let dom = DomainId::from_index(self.fabric.nvlink_domains.len());
                    self.fabric.nvlink_domains.push(NvlinkDomain {
                        kind: DomainKind::Nvl72,
                        name: r.id.value.clone(),
                        nodes: Vec::new(),
                        gpus: 0,
                        switch_trays: d.value.switch_trays.as_ref().map(|s| s.value).unwrap_or(9),
                        rack: id,
                    });
                    self.fabric.racks[id.index()].nvlink_domain = Some(dom);
                    rack_domain = Some(dom);
                }
                other => self.push(
                    err(
                        "FP009",
                        format!("unknown rack NVLink domain kind `{other}`"),
                    )
                    .at(span_of(&d.value.kind), "not a rack-scale domain")
                    .help("use `nvl72` (GB200/GB300 NVL72: 18 compute trays, 9 switch trays)"),
                ),
            }
        }
        for group in &r.nodes {
            let Some((tid, _)) = self.templates.get(&group.value.template.value).copied() else {
                self.push(
                    err(
                        "FP004",
                        format!("unknown node template `{}`", group.value.template.value),
                    )
                    .at(span_of(&group.value.template), "no template with this id")
                    .help("declare it under `node_templates:` or fix the id"),
                );
                if let Ok(names) = expand_hostlist(&group.value.ids.value) {
                    self.faulty_names.extend(names);
                }
                continue;
            };
            let Some(count) = self.hostlist_count(&group.value.ids) else {
                continue;
            };
            let span = span_of(&group.value.ids);
            // Budgets first, over the whole file (`nodes_over_budget`): nothing of a group
            // past them is allocated, nor of any other group when the file passes them.
            let t = &self.fabric.templates[tid.index()];
            let per = [1, t.gpus as u64, t.nics.len() as u64];
            let budgets = [
                ("nodes", limits::MAX_NODES),
                ("GPUs", limits::MAX_GPUS),
                ("NIC ports", limits::MAX_NICS),
            ];
            let mut fits = true;
            for (i, (what, limit)) in budgets.into_iter().enumerate() {
                self.planned[i] = limits::add(self.planned[i], limits::mul(count, per[i]));
                fits =
                    fits && self.within_budget(self.planned[i], what, limit, span, "these nodes");
            }
            if !fits || self.nodes_over_budget {
                self.refuse(&group.value.ids.value);
                continue;
            }
            let Some(names) = self.expand(&group.value.ids) else {
                continue;
            };
            for node_name in names {
                let nid = NodeId::from_index(self.fabric.nodes.len());
                if !self.register_name(&node_name, Named::Node(nid), span) {
                    continue;
                }
                self.prov.entity(Entity::Node(nid), span);
                let t = &self.fabric.templates[tid.index()];
                let first_gpu = GpuId::from_index(self.fabric.gpus.len());
                let first_nic = NicId::from_index(self.fabric.nics.len());
                let (gpus, nic_count, nvlink) = (t.gpus, t.nics.len() as u32, t.nvlink);
                for index in 0..gpus {
                    self.fabric.gpus.push(Gpu { node: nid, index });
                }
                for template_nic in 0..nic_count {
                    self.fabric.nics.push(Nic {
                        node: nid,
                        template_nic,
                        link: None,
                    });
                }
                let domain = match nvlink {
                    NvlinkKind::Hgx8 => {
                        let dom = DomainId::from_index(self.fabric.nvlink_domains.len());
                        self.fabric.nvlink_domains.push(NvlinkDomain {
                            kind: DomainKind::Hgx8,
                            name: node_name.clone(),
                            nodes: vec![nid],
                            gpus,
                            switch_trays: 0,
                            rack: id,
                        });
                        Some(dom)
                    }
                    NvlinkKind::Nvl72Tray => rack_domain.inspect(|dom| {
                        let d = &mut self.fabric.nvlink_domains[dom.index()];
                        d.nodes.push(nid);
                        d.gpus += gpus;
                    }),
                    NvlinkKind::None => None,
                };
                self.fabric.nodes.push(Node {
                    name: node_name,
                    template: tid,
                    rack: id,
                    su,
                    first_gpu,
                    first_nic,
                    nvlink_domain: domain,
                });
                self.fabric.racks[id.index()].nodes.push(nid);
            }
        }
    }

    pub(super) fn tier(&mut self, t: &Spanned<String>) -> Option<Tier> {
        match t.value.as_str() {
            "leaf" | "tor" => Some(Tier::Leaf),
            "spine" => Some(Tier::Spine),
            "core" | "super-spine" | "superspine" => Some(Tier::Core),
            other => {
                self.push(
                    err("FP009", format!("unknown switch tier `{other}`"))
                        .at(span_of(t), "not a tier")
                        .help("use `leaf`, `spine` or `core`"),
                );
                None
            }
        }
    }

    /// Adds a switch; returns its id, or None when the name is taken.
    pub(super) fn add_switch(&mut self, sw: Switch, span: Span) -> Option<SwitchId> {
        let id = SwitchId::from_index(self.fabric.switches.len());
        if !self.register_name(&sw.name, Named::Switch(id), span) {
            return None;
        }
        self.prov.entity(Entity::Switch(id), span);
        if let Some(r) = sw.rack {
            self.fabric.racks[r.index()].switches.push(id);
        }
        self.fabric.switches.push(sw);
        self.next_port.push(0);
        Some(id)
    }

    fn switch_group(&mut self, s: &RawSwitch) {
        let tier = self.tier(&s.tier);
        let model = self.switch_model(&s.model);
        let rack = s.rack.as_ref().and_then(|r| self.rack_ref(r));
        let su = s.su.as_ref().map(|x| self.su(&x.value));
        let mut numbers_ok = true;
        if let Some(r) = &s.rail {
            numbers_ok &= self.in_range(r, "rail", &limits::RAIL);
        }
        if let Some(p) = &s.plane {
            numbers_ok &= self.in_range(p, "plane", &limits::PLANE);
        }
        let Some(count) = self.hostlist_count(&s.ids) else {
            return;
        };
        if !self.switch_budget(count, span_of(&s.ids)) {
            self.refuse(&s.ids.value);
            return;
        }
        // Several ids take consecutive rails from `rail`: the last one must be a rail too.
        if let (Some(r), true) = (&s.rail, numbers_ok && count > 1) {
            let last = r.value as u64 + count - 1;
            if !limits::RAIL.contains(last as f64) {
                self.push(
                    err(
                        "FP009",
                        format!(
                            "{count} switches from rail {} would reach rail {last}, past the last rail ({})",
                            r.value,
                            limits::RAIL.max
                        ),
                    )
                    .at(span_of(r), "first rail")
                    .help(format!(
                        "valid range for `rail`: {} ({}); give fewer ids or a lower first rail",
                        limits::RAIL.describe(),
                        limits::RAIL.why
                    )),
                );
                numbers_ok = false;
            }
        }
        let Some(names) = self.expand(&s.ids) else {
            return;
        };
        if !numbers_ok {
            self.faulty_names.extend(names);
            return;
        }
        let (Some(tier), Some(model)) = (tier, model) else {
            self.faulty_names.extend(names);
            return;
        };
        let span = span_of(&s.ids);
        for (i, name) in names.into_iter().enumerate() {
            let sw = Switch {
                name,
                tier,
                model,
                su,
                rail: s.rail.as_ref().map(|r| r.value.saturating_add(i as u32)),
                plane: s.plane.as_ref().map(|p| p.value).unwrap_or(0),
                rack,
            };
            self.add_switch(sw, span);
        }
    }

    pub(super) fn medium(&mut self, m: &Spanned<String>) -> Option<Medium> {
        Some(match m.value.as_str() {
            "dac" => Medium::Dac,
            "aoc" => Medium::Aoc,
            "mm" | "mm-om4" | "om4" => Medium::Mm,
            "mm-om3" | "om3" => Medium::MmOm3,
            "sm" | "mpo-sm" => Medium::Sm,
            "sm-splitter" => Medium::SmSplitter,
            "lc-sm" => Medium::LcSm,
            other => {
                self.push(
                    err("FP009", format!("unknown cable medium `{other}`"))
                        .at(span_of(m), "not a medium")
                        .help("use dac, aoc, mm (MPO OM4), mm-om3, sm (MPO single-mode), sm-splitter or lc-sm"),
                );
                return None;
            }
        })
    }

    pub(super) fn length(&mut self, l: &Option<Spanned<f64>>) -> Option<f64> {
        let l = l.as_ref()?;
        if self.in_range(l, "length_m", &limits::LENGTH_M) {
            Some(l.value)
        } else {
            None
        }
    }

    fn endpoint(&mut self, s: &Spanned<String>) -> Option<Endpoint> {
        let Some((name, port)) = s.value.rsplit_once(':') else {
            self.push(
                err("FP009", format!("link endpoint `{}` has no port", s.value))
                    .at(span_of(s), "expected `name:port`")
                    .help("write endpoints as `node:port` (a NIC port of the node's template) or `switch:port`"),
            );
            return None;
        };
        match self.names.get(name).map(|(n, _)| *n) {
            Some(Named::Switch(sw)) => Some(Endpoint::Switch(sw, PortName::parse(port))),
            Some(Named::Node(node)) => {
                let t = self.fabric.template_of(node);
                match t.nics.iter().position(|n| n.port == port) {
                    Some(i) => Some(Endpoint::Nic(NicId(
                        self.fabric.nodes[node.index()].first_nic.0 + i as u32,
                    ))),
                    None => {
                        let ports: Vec<&str> =
                            t.nics.iter().map(|n| n.port.as_str()).take(16).collect();
                        let tname = t.name.clone();
                        let tid = self.fabric.nodes[node.index()].template;
                        self.push(
                            err("FP004", format!("node `{name}` has no port `{port}`"))
                                .at(span_of(s), "unknown port")
                                .also(
                                    Entity::Template(tid),
                                    Some("nics"),
                                    format!("ports of `{tname}` declared here"),
                                )
                                .help(format!("ports of `{tname}`: {}", ports.join(", "))),
                        );
                        None
                    }
                }
            }
            None if self.faulty_names.contains(name) || self.is_refused(name) => None,
            None => {
                self.push(
                    err("FP004", format!("unknown node or switch `{name}`"))
                        .at(span_of(s), "not declared")
                        .help("declare the node in a rack or the switch under `switches:`"),
                );
                None
            }
        }
    }

    fn link(&mut self, l: &RawLink) {
        let a = self.endpoint(&l.a);
        let b = self.endpoint(&l.b);
        let medium = self.medium(&l.medium);
        let length_m = self.length(&l.length_m);
        let gbps_ok = self.in_range(&l.gbps, "gbps", &limits::GBPS);
        let (Some(a), Some(b), Some(medium), true) = (a, b, medium, gbps_ok) else {
            return;
        };
        if !self.link_budget(1, span_of(&l.a)) {
            return;
        };
        let id = LinkId::from_index(self.fabric.links.len());
        let e = Entity::Link(id);
        self.prov.entity(e, span_of(&l.a));
        self.prov.field(e, "b", span_of(&l.b));
        self.prov.field(e, "gbps", span_of(&l.gbps));
        self.prov.field(e, "medium", span_of(&l.medium));
        if let Some(len) = &l.length_m {
            self.prov.field(e, "length_m", span_of(len));
        }
        self.fabric.links.push(Link {
            a,
            b,
            gbps: l.gbps.value,
            medium,
            length_m,
        });
    }

    /// Range checks of every number under `lossless:` (cable length and RTT are checked where
    /// they are read, with their defaults).
    fn lossless_numbers(&mut self, l: &RawLossless) {
        let (s, n) = (&l.switch.value, &l.nic.value);
        if let Some(map) = &s.dscp_to_priority {
            for (dscp, prio) in &map.value {
                self.value_in_range(*dscp, span_of(map), "dscp_to_priority", &limits::DSCP);
                self.value_in_range(*prio, span_of(map), "dscp_to_priority", &limits::PRIORITY);
            }
        }
        if let Some(c) = &s.cnp {
            self.in_range(&c.value.dscp, "cnp.dscp", &limits::DSCP);
            self.in_range(&c.value.priority, "cnp.priority", &limits::PRIORITY);
        }
        if let Some(e) = &s.ecn {
            self.in_range(&e.value.priority, "ecn.priority", &limits::PRIORITY);
            self.in_range(&e.value.kmin_bytes, "kmin_bytes", &limits::BUFFER_BYTES);
            self.in_range(&e.value.kmax_bytes, "kmax_bytes", &limits::BUFFER_BYTES);
        }
        for (v, key) in [
            (&s.pfc_xoff_bytes, "pfc_xoff_bytes"),
            (&s.headroom_bytes, "headroom_bytes"),
        ] {
            if let Some(v) = v {
                self.in_range(v, key, &limits::BUFFER_BYTES);
            }
        }
        self.in_range(&s.mtu, "mtu", &limits::MTU);
        self.in_range(&n.mtu, "nic.mtu", &limits::MTU);
        if let Some(w) = &s.watchdog {
            self.watchdog_numbers(&w.value);
        }
        self.in_range(&n.roce_dscp, "roce_dscp", &limits::DSCP);
        self.in_range(&n.cnp_dscp, "nic.cnp_dscp", &limits::DSCP);
        self.in_range(&n.roce_priority, "roce_priority", &limits::PRIORITY);
        if let Some(m) = &n.roce_mtu {
            if !limits::ROCE_MTUS.contains(&m.value) {
                self.push(
                    err("FP009", format!("`roce_mtu` must be one of 256, 512, 1024, 2048 or 4096, got {}", m.value))
                        .at(span_of(m), "not an InfiniBand MTU")
                        .help("the RoCE path MTU is an InfiniBand MTU size (IBTA: 256-4096); 4096 is usual"),
                );
            }
        }
        let mut lists = vec![
            ("pfc_priorities", &s.pfc_priorities),
            ("nic.pfc_priorities", &n.pfc_priorities),
        ];
        for o in &l.overrides {
            if let Some(m) = &o.value.mtu {
                self.in_range(m, "mtu", &limits::MTU);
            }
            if let Some(p) = &o.value.pfc_priorities {
                lists.push(("pfc_priorities", p));
            }
            if let Some(Some(w)) = o.value.watchdog.as_ref().map(|w| &w.value) {
                self.watchdog_numbers(w);
            }
        }
        for (key, list) in lists {
            // One report per list: the list has one span.
            if let Some(bad) = list
                .value
                .iter()
                .find(|p| !limits::PRIORITY.contains(**p as f64))
            {
                self.value_in_range(*bad, span_of(list), key, &limits::PRIORITY);
            }
        }
    }

    fn watchdog_numbers(&mut self, w: &RawWatchdog) {
        self.in_range(&w.detect_ms, "detect_ms", &limits::WATCHDOG_MS);
        self.in_range(&w.restore_ms, "restore_ms", &limits::WATCHDOG_MS);
    }

    fn lossless(&mut self, l: &Spanned<RawLossless>) {
        let e = Entity::Lossless;
        self.prov.entity(e, span_of(l));
        let s = &l.value.switch.value;
        let n = &l.value.nic.value;
        self.prov.field(e, "switch", span_of(&l.value.switch));
        self.prov.field(e, "nic", span_of(&l.value.nic));
        self.prov
            .field(e, "pfc_priorities", span_of(&s.pfc_priorities));
        self.prov.field(e, "mtu", span_of(&s.mtu));
        self.prov.field(e, "nic.roce_dscp", span_of(&n.roce_dscp));
        self.prov
            .field(e, "nic.roce_priority", span_of(&n.roce_priority));
        self.prov.field(e, "nic.cnp_dscp", span_of(&n.cnp_dscp));
        self.prov
            .field(e, "nic.pfc_priorities", span_of(&n.pfc_priorities));
        self.prov.field(e, "nic.mtu", span_of(&n.mtu));
        if let Some(v) = &s.dscp_to_priority {
            self.prov.field(e, "dscp_to_priority", span_of(v));
        }
        if let Some(v) = &s.cnp {
            self.prov.field(e, "cnp", span_of(v));
            self.prov.field(e, "cnp.strict", span_of(&v.value.strict));
        }
        if let Some(v) = &s.ecn {
            self.prov.field(e, "ecn", span_of(v));
            self.prov
                .field(e, "ecn.kmin_bytes", span_of(&v.value.kmin_bytes));
            self.prov
                .field(e, "ecn.kmax_bytes", span_of(&v.value.kmax_bytes));
        }
        if let Some(v) = &s.pfc_xoff_bytes {
            self.prov.field(e, "pfc_xoff_bytes", span_of(v));
        }
        if let Some(v) = &s.cable_length_m {
            self.prov.field(e, "cable_length_m", span_of(v));
        }
        if let Some(v) = &s.headroom_bytes {
            self.prov.field(e, "headroom_bytes", span_of(v));
        }
        if let Some(v) = &s.watchdog {
            self.prov.field(e, "watchdog", span_of(v));
        }
        if let Some(v) = &s.ecmp_hash {
            self.prov.field(e, "ecmp_hash", span_of(v));
        }
        self.lossless_numbers(&l.value);
        let ecmp_hash = match s.ecmp_hash.as_ref().map(|h| h.value.as_str()) {
            None | Some("5-tuple") | Some("five-tuple") | Some("l3") => EcmpHash::FiveTuple,
            Some("qp-udf") | Some("e-ecmp") => EcmpHash::QpUdf,
            Some("adaptive") | Some("dlb") | Some("ar") => EcmpHash::Adaptive,
            Some(other) => {
                self.push(
                    err("FP009", format!("unknown ECMP hash `{other}`"))
                        .at(span_of(s.ecmp_hash.as_ref().expect("some")), "not a hash mode")
                        .help("use `5-tuple`, `qp-udf` (hash on the RoCE destination QP) or `adaptive`"),
                );
                EcmpHash::FiveTuple
            }
        };
        let cable_length_m = match &s.cable_length_m {
            Some(c) if self.in_range(c, "cable_length_m", &limits::LENGTH_M) => c.value,
            // Cumulus Linux sizes PFC headroom for 100 m unless told otherwise.
            _ => 100.0,
        };
        let rtt_us = match &s.rtt_us {
            Some(r) if self.in_range(r, "rtt_us", &limits::RTT_US) => r.value,
            // Huawei's static-ECN guide works its example with a 20 us RTT.
            _ => 20.0,
        };
        let mut overrides = Vec::new();
        for (i, o) in l.value.overrides.iter().enumerate() {
            let oe = Entity::PortOverride(i as u32);
            self.prov.entity(oe, span_of(&o.value.port));
            let (target, port) = match o.value.port.value.split_once(':') {
                Some((sw, p)) => (sw.to_string(), Some(PortName::parse(p))),
                None => (o.value.port.value.clone(), None),
            };
            let names = expand_hostlist(&target).unwrap_or_default();
            let switches: Vec<SwitchId> = names
                .iter()
                .filter_map(|nm| match self.names.get(nm) {
                    Some((Named::Switch(sw), _)) => Some(*sw),
                    _ => None,
                })
                .collect();
            if switches.is_empty() && names.iter().any(|n| self.is_refused(n)) {
                continue;
            }
            if switches.is_empty() {
                self.push(
                    err("FP004", format!("override names no known switch: `{}`", o.value.port.value))
                        .at(span_of(&o.value.port), "no such switch")
                        .help("write `switch` or `switch:port` with a switch declared under `switches:` or by intent"),
                );
                continue;
            }
            if let Some(m) = &o.value.mtu {
                self.prov.field(oe, "mtu", span_of(m));
            }
            if let Some(p) = &o.value.pfc_priorities {
                self.prov.field(oe, "pfc_priorities", span_of(p));
            }
            for sw in switches {
                overrides.push((
                    i,
                    PortOverride {
                        switch: sw,
                        port: port.clone(),
                        mtu: o.value.mtu.as_ref().map(|m| m.value),
                        pfc_priorities: o.value.pfc_priorities.as_ref().map(|p| p.value.clone()),
                        watchdog: o.value.watchdog.as_ref().map(|w| {
                            w.value.as_ref().map(|w| Watchdog {
                                detect_ms: w.detect_ms.value,
                                restore_ms: w.restore_ms.value,
                            })
                        }),
                        lossy: o.value.lossy,
                        origin: i as u32,
                    },
                ));
            }
        }
        self.fabric.lossless = Some(Lossless {
            switch: SwitchQos {
                dscp_to_priority: s
                    .dscp_to_priority
                    .as_ref()
                    .map(|m| m.value.clone())
                    .unwrap_or_default(),
                pfc_priorities: s.pfc_priorities.value.clone(),
                cnp: s.cnp.as_ref().map(|c| Cnp {
                    dscp: c.value.dscp.value,
                    priority: c.value.priority.value,
                    strict: c.value.strict.value,
                }),
                ecn: s.ecn.as_ref().map(|c| Ecn {
                    priority: c.value.priority.value,
                    kmin_bytes: c.value.kmin_bytes.value,
                    kmax_bytes: c.value.kmax_bytes.value,
                }),
                pfc_xoff_bytes: s.pfc_xoff_bytes.as_ref().map(|v| v.value),
                mtu: s.mtu.value,
                cable_length_m,
                headroom_bytes: s.headroom_bytes.as_ref().map(|v| v.value),
                watchdog: s.watchdog.as_ref().map(|w| Watchdog {
                    detect_ms: w.value.detect_ms.value,
                    restore_ms: w.value.restore_ms.value,
                }),
                ecmp_hash,
                rtt_us,
            },
            nic: NicQos {
                roce_dscp: n.roce_dscp.value,
                roce_priority: n.roce_priority.value,
                cnp_dscp: n.cnp_dscp.value,
                pfc_priorities: n.pfc_priorities.value.clone(),
                mtu: n.mtu.value,
                roce_mtu: n.roce_mtu.as_ref().map(|m| m.value).unwrap_or(4096),
            },
            overrides: overrides.into_iter().map(|(_, o)| o).collect(),
        });
    }
}

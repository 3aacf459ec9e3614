//! Adjacency facts derived once from the model and shared by checks and metrics: which links
//! each switch has, which way they face, and how much bandwidth goes down and up.

use crate::model::*;

/// Which way a link faces from a switch's point of view.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Facing {
    /// To a NIC or a lower tier.
    Down,
    /// To a higher tier.
    Up,
    /// To a switch of the same tier (a design error in a Clos).
    Lateral,
}

#[derive(Debug, Clone, Default)]
pub struct Topology {
    /// Links on each switch, in link order.
    pub switch_links: Vec<Vec<LinkId>>,
    pub down_gbps: Vec<u64>,
    pub up_gbps: Vec<u64>,
    pub down_links: Vec<u32>,
    pub up_links: Vec<u32>,
    /// Compute NIC ports cabled to each switch.
    pub nic_links: Vec<u32>,
    /// The switch each NIC port is cabled to (first link when miswired twice).
    pub nic_switch: Vec<Option<SwitchId>>,
}

impl Topology {
    pub fn new(f: &Fabric) -> Self {
        let n = f.switches.len();
        let mut t = Topology {
            switch_links: vec![Vec::new(); n],
            down_gbps: vec![0; n],
            up_gbps: vec![0; n],
            down_links: vec![0; n],
            up_links: vec![0; n],
            nic_links: vec![0; n],
            nic_switch: vec![None; f.nics.len()],
        };
        for (i, l) in f.links.iter().enumerate() {
            let id = LinkId::from_index(i);
            for (me, other) in [(&l.a, &l.b), (&l.b, &l.a)] {
                let Endpoint::Switch(sw, _) = me else {
                    continue;
                };
                t.switch_links[sw.index()].push(id);
                match facing(f, *sw, other) {
                    Facing::Down => {
                        t.down_gbps[sw.index()] += l.gbps as u64;
                        t.down_links[sw.index()] += 1;
                    }
                    Facing::Up => {
                        t.up_gbps[sw.index()] += l.gbps as u64;
                        t.up_links[sw.index()] += 1;
                    }
                    Facing::Lateral => {}
                }
                if let Endpoint::Nic(nic) = other {
                    t.nic_links[sw.index()] += 1;
                    t.nic_switch[nic.index()].get_or_insert(*sw);
                }
            }
        }
        t
    }

    /// The switch at the other end of `link` from `sw`, if it is a switch.
    pub fn peer_switch(f: &Fabric, link: LinkId, sw: SwitchId) -> Option<SwitchId> {
        let l = &f.links[link.index()];
        match (&l.a, &l.b) {
            (Endpoint::Switch(a, _), Endpoint::Switch(b, _)) if *a == sw => Some(*b),
            (Endpoint::Switch(a, _), Endpoint::Switch(b, _)) if *b == sw => Some(*a),
            _ => None,
        }
    }

    /// Highest tier present in the fabric.
    pub fn top_tier(f: &Fabric) -> Option<Tier> {
        f.switches.iter().map(|s| s.tier).max()
    }
}

/// How the link from switch `sw` to `other` faces.
pub fn facing(f: &Fabric, sw: SwitchId, other: &Endpoint) -> Facing {
    match other {
        Endpoint::Nic(_) => Facing::Down,
        Endpoint::Switch(o, _) => {
            let me = f.switches[sw.index()].tier.level();
            let them = f.switches[o.index()].tier.level();
            match me.cmp(&them) {
                std::cmp::Ordering::Less => Facing::Up,
                std::cmp::Ordering::Greater => Facing::Down,
                std::cmp::Ordering::Equal => Facing::Lateral,
            }
        }
    }
}

//! The prefix (KV) cache model behind traces that carry prefix-block hashes (Mooncake
//! FAST'25): a request's prompt is a list of 512-token blocks, each id hashing the block and
//! every block before it, so a request can reuse the KV of its leading run of blocks already
//! in the cache (Qin et al., "Mooncake", FAST'25; the trace's README). Two cache models:
//! unbounded (every block seen before is a hit: the trace's own "cache ratio") and LRU with a
//! capacity in tokens (what a context tier of that size would keep). No IO here.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;

/// Tokens per prefix block in the Mooncake traces.
pub const BLOCK_TOKENS: u64 = 512;

/// What a cache saw over one trace.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct CacheStats {
    /// `unbounded` or `lru`.
    pub model: &'static str,
    /// LRU capacity, blocks (`None`: unbounded).
    pub capacity_blocks: Option<u64>,
    pub requests: u64,
    /// Block occurrences looked up, and those served from the cache.
    pub blocks: u64,
    pub hit_blocks: u64,
    /// Prompt tokens, and those in a reused prefix (capped at the prompt).
    pub input_tokens: u64,
    pub cached_tokens: u64,
    /// Most blocks resident at once: the cache's footprint.
    pub peak_blocks: u64,
}

impl CacheStats {
    /// Share of prompt tokens served from the cache.
    pub fn token_hit_rate(&self) -> f64 {
        if self.input_tokens == 0 {
            0.0
        } else {
            self.cached_tokens as f64 / self.input_tokens as f64
        }
    }
}

/// A prefix cache over block ids.
#[derive(Debug)]
pub struct PrefixCache {
    capacity_blocks: Option<u64>,
    tick: u64,
    /// Block id -> last use.
    last_use: HashMap<u64, u64>,
    /// Last use -> block id (LRU order; unused when unbounded).
    by_use: BTreeMap<u64, u64>,
    pub stats: CacheStats,
}

impl PrefixCache {
    /// `capacity_tokens`: `None` for an unbounded cache, else LRU holding that many tokens
    /// (whole blocks, at least one).
    pub fn new(capacity_tokens: Option<u64>) -> PrefixCache {
        let capacity_blocks = capacity_tokens.map(|t| (t / BLOCK_TOKENS).max(1));
        PrefixCache {
            capacity_blocks,
            tick: 0,
            last_use: HashMap::new(),
            by_use: BTreeMap::new(),
            stats: CacheStats {
                model: if capacity_blocks.is_some() {
                    "lru"
                } else {
                    "unbounded"
                },
                capacity_blocks,
                ..CacheStats::default()
            },
        }
    }

    /// One request: its leading run of cached blocks is reused, then all its blocks are in
    /// the cache (most recently used). Returns the cached prompt tokens.
    pub fn request(&mut self, blocks: &[u64], input_tokens: u64) -> u64 {
        let lead = blocks
            .iter()
            .take_while(|b| self.last_use.contains_key(b))
            .count() as u64;
        let cached = (lead * BLOCK_TOKENS).min(input_tokens);
        for &b in blocks {
            self.tick += 1;
            if let Some(old) = self.last_use.insert(b, self.tick) {
                if self.capacity_blocks.is_some() {
                    self.by_use.remove(&old);
                }
            }
            if self.capacity_blocks.is_some() {
                self.by_use.insert(self.tick, b);
            }
        }
        if let Some(cap) = self.capacity_blocks {
            while self.last_use.len() as u64 > cap {
                let (_, b) = self.by_use.pop_first().expect("non-empty");
                self.last_use.remove(&b);
            }
        }
        let s = &mut self.stats;
        s.requests += 1;
        s.blocks += blocks.len() as u64;
        s.hit_blocks += lead;
        s.input_tokens += input_tokens;
        s.cached_tokens += cached;
        s.peak_blocks = s.peak_blocks.max(self.last_use.len() as u64);
        cached
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn leading_run_hits_and_lru_evicts_the_oldest() {
        let mut c = PrefixCache::new(None);
        assert_eq!(c.request(&[1, 2, 3], 1500), 0);
        // Shares blocks 1 and 2, then diverges: 2 x 512 cached.
        assert_eq!(c.request(&[1, 2, 4], 1400), 1024);
        // Block 3 after a miss on 5 is not a prefix hit.
        assert_eq!(c.request(&[5, 3], 900), 0);
        // All blocks seen: capped at the prompt.
        assert_eq!(c.request(&[1, 2], 700), 700);
        assert_eq!(c.stats.peak_blocks, 5);
        assert_eq!((c.stats.blocks, c.stats.hit_blocks), (10, 4));

        // LRU of 2 blocks (1,024 tokens).
        let mut c = PrefixCache::new(Some(1024));
        c.request(&[1, 2], 1024);
        c.request(&[3], 512); // evicts 1
        assert_eq!(c.request(&[1, 2], 1024), 0); // 1 was evicted
        assert_eq!(c.request(&[1, 2], 1024), 1024);
        assert_eq!(c.stats.peak_blocks, 2);
    }
}

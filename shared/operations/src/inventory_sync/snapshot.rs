//! The channel's stock snapshot: the chunks of what was last sent, loaded once per run and saved
//! where this run changed them.

use super::*;

/// The channel's stock snapshot as loaded, with the chunks changed by this run.
pub(super) struct Snapshot {
    pub(super) channel: domain::ChannelId,
    pub(super) chunks: BTreeMap<u32, Versioned<StockChunk>>,
    pub(super) dirty: BTreeSet<u32>,
}

impl Snapshot {
    pub(super) async fn load(ch: &Channel) -> Result<Self, OpError> {
        let mut chunks = BTreeMap::new();
        let mut query = Query::partition(channel_pk(&ch.settings.id, "STOCK")).limit(32);
        loop {
            let (page, next) = ch.store.query_records::<StockChunk>(&query).await?;
            for chunk in page {
                chunks.insert(chunk.record.chunk, chunk);
            }
            match next {
                Some(token) => query = query.after(Some(token)),
                None => break,
            }
        }
        Ok(Self {
            channel: ch.settings.id.clone(),
            chunks,
            dirty: BTreeSet::new(),
        })
    }

    pub(super) fn chunk(&mut self, sku: &Sku) -> (u32, &mut StockChunk) {
        let n = stock_chunk_of(sku);
        let channel = self.channel.clone();
        let chunk = self
            .chunks
            .entry(n)
            .or_insert_with(|| Versioned::new(StockChunk::new(channel, n)));
        (n, &mut chunk.record)
    }

    pub(super) fn change(&mut self, sku: &Sku, f: impl FnOnce(&mut StockChunk) -> bool) -> bool {
        let (n, chunk) = self.chunk(sku);
        let changed = f(chunk);
        if changed {
            self.dirty.insert(n);
        }
        changed
    }

    pub(super) fn track(&mut self, sku: &Sku) -> bool {
        self.change(sku, |c| c.track(sku.clone()))
    }

    pub(super) fn is_tracked(&self, sku: &Sku) -> bool {
        self.chunks
            .get(&stock_chunk_of(sku))
            .is_some_and(|c| c.record.is_tracked(sku))
    }

    pub(super) fn mark_recheck(&mut self, sku: &Sku) -> bool {
        self.change(sku, |c| c.mark_recheck(sku))
    }

    pub(super) fn rechecked(&mut self, sku: &Sku) {
        self.change(sku, |c| c.rechecked(sku));
    }

    pub(super) fn untrack(&mut self, sku: &Sku) {
        self.change(sku, |c| c.untrack(sku));
    }

    pub(super) fn observe_sources(&mut self, sku: &Sku, quantity: f64) -> bool {
        self.change(sku, |c| c.observe_sources(sku, quantity))
    }

    pub(super) fn tracked(&self) -> Vec<Sku> {
        self.chunks
            .values()
            .flat_map(|c| c.record.entries.keys().cloned())
            .collect()
    }

    pub(super) fn rechecks(&self) -> Vec<Sku> {
        self.chunks
            .values()
            .flat_map(|c| c.record.rechecks().cloned())
            .collect()
    }

    pub(super) fn mark_chunk(&mut self, n: u32) {
        if let Some(chunk) = self.chunks.get_mut(&n) {
            let skus: Vec<Sku> = chunk.record.entries.keys().cloned().collect();
            let mut changed = false;
            for sku in &skus {
                changed |= chunk.record.mark_recheck(sku);
            }
            if changed {
                self.dirty.insert(n);
            }
        }
    }

    /// Writes the changed chunks. Runs hold a lease, so a lost race means a run outlived its lease:
    /// its changes to that chunk are dropped and found again by the next run.
    pub(super) async fn save(&mut self, ch: &Channel, report: &mut RunReport) -> Result<(), OpError> {
        let dirty: Vec<u32> = std::mem::take(&mut self.dirty).into_iter().collect();
        let chunks: Vec<Versioned<StockChunk>> = dirty.iter().filter_map(|n| self.chunks.remove(n)).collect();
        let saved = concurrently(chunks, STORE_CONCURRENCY, |mut chunk| async move {
            let result = if chunk.record.entries.is_empty() && chunk.version.is_some() {
                let key = ports::records::stock_chunk_key(&chunk.record.channel, chunk.record.chunk);
                let expect = chunk.version.map_or(ports::Expect::Any, ports::Expect::Version);
                ch.store.delete(&key, expect).await
            } else {
                ch.store.save(&mut chunk).await
            };
            (chunk, result)
        })
        .await;
        for (chunk, result) in saved {
            match result {
                Ok(()) => {}
                Err(StoreError::ConditionFailed { .. }) => {
                    report.problem(format!(
                        "stock chunk {} changed under this run",
                        chunk.record.chunk
                    ));
                }
                Err(e) => return Err(e.into()),
            }
            self.chunks.insert(chunk.record.chunk, chunk);
        }
        report.add(Counter::SnapshotChunksWritten, dirty.len() as u64);
        Ok(())
    }
}

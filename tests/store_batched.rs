//! Batch reads and writes on both backends, and the [`Batched`] store a worker uses: many
//! concurrent single-row calls answered by shared queries must give every caller exactly
//! what a direct call would.

mod support;

#[path = "support/store_rows.rs"]
mod store_rows;

use std::collections::HashSet;
use std::sync::Arc;
use support::clickhouse::{drop_database, test_server};
use windlass::session_id::SessionId;
use windlass::store::{Batched, ClickHouseStore, DuckStore, SessionStatus, SignalRow, Store};

/// Each backend this machine can test, opened fresh and initialised.
async fn stores(
    test: &str,
    dir: &std::path::Path,
) -> Vec<(Arc<dyn Store>, Option<windlass::settings::ClickHouseSettings>)> {
    let duck: Arc<dyn Store> = Arc::new(DuckStore::open(&dir.join("duck")).unwrap());
    duck.init().await.unwrap();
    let mut out = vec![(duck, None)];
    if let Some(settings) = test_server(test) {
        let ch: Arc<dyn Store> = Arc::new(ClickHouseStore::connect(&settings, &dir.join("spool")).unwrap());
        ch.init().await.unwrap();
        out.push((ch, Some(settings)));
    }
    out
}

fn ids(n: usize) -> Vec<SessionId> {
    // Quotes, separators and the DuckDB batch separator itself are only data.
    let mut ids: Vec<SessionId> = (0..n).map(|i| SessionId::new(format!("s-{i}"))).collect();
    ids.push("it's \"odd\"".into());
    ids.push("a\u{1f}b".into());
    ids.push("x' OR '1'='1".into());
    ids
}

#[tokio::test]
async fn batch_methods_match_the_single_row_ones() {
    let dir = tempfile::tempdir().unwrap();
    for (store, settings) in stores("batch_methods_match_the_single_row_ones", dir.path()).await {
        let backend = store.backend();
        let ids = ids(40);
        let states: Vec<_> = ids
            .iter()
            .flat_map(|id| {
                [store_rows::state(id, 1, SessionStatus::Running), store_rows::state(id, 3, SessionStatus::Completed)]
            })
            .collect();
        store.put_session_states(&states).await.unwrap();
        // An older version written later still loses.
        store.put_session_states(&[store_rows::state(&ids[0], 2, SessionStatus::Running)]).await.unwrap();
        store.put_cascade_sessions(&ids.iter().map(|id| store_rows::cascade(id)).collect::<Vec<_>>()).await.unwrap();
        store
            .put_checkpoints(&ids.iter().map(|id| store_rows::checkpoint(id, 0, 1, 100)).collect::<Vec<_>>())
            .await
            .unwrap();
        let signals: Vec<SignalRow> = ids
            .iter()
            .enumerate()
            .flat_map(|(i, id)| {
                [
                    store_rows::signal(id, &format!("{i}-b"), "message", 20.0 + i as f64),
                    store_rows::signal(id, &format!("{i}-a"), "named", 10.0 + i as f64),
                ]
            })
            .collect();
        store.put_signals(&signals).await.unwrap();

        let mut asked = ids.clone();
        asked.push("nobody".into());
        let got_states = store.session_states(&asked).await.unwrap();
        assert_eq!(got_states.len(), ids.len(), "{backend}: one row per stored session, none for `nobody`");
        for row in &got_states {
            assert_eq!(row.version, 3, "{backend}: newest version of {}", row.session_id);
            assert_eq!(Some(row), store.session_state(&row.session_id).await.unwrap().as_ref(), "{backend}");
        }
        let got_cascades = store.cascade_sessions(&asked).await.unwrap();
        assert_eq!(got_cascades.len(), ids.len(), "{backend}");
        for row in &got_cascades {
            assert_eq!(Some(row), store.cascade_session(&row.session_id).await.unwrap().as_ref(), "{backend}");
        }
        let got_signals = store.signals_of(&asked).await.unwrap();
        assert_eq!(got_signals.len(), signals.len(), "{backend}");
        assert!(got_signals.windows(2).all(|w| w[0].created_at <= w[1].created_at), "{backend}: oldest first");
        for id in &ids {
            let mine: Vec<SignalRow> = got_signals.iter().filter(|r| &r.session_id == id).cloned().collect();
            assert_eq!(mine, store.signals(id).await.unwrap(), "{backend}: signals of {id:?}");
            assert!(store.latest_checkpoint(id, 0).await.unwrap().is_some(), "{backend}");
        }
        // Long ids, more of them than one query's text may hold on ClickHouse (sent in parts).
        let long: Vec<SessionId> = (0..250).map(|i| SessionId::new(format!("{i:04}-{}", "x".repeat(300)))).collect();
        store
            .put_session_states(
                &long.iter().map(|id| store_rows::state(id, 1, SessionStatus::Queued)).collect::<Vec<_>>(),
            )
            .await
            .unwrap();
        let signals: Vec<SignalRow> = long
            .iter()
            .enumerate()
            .map(|(i, id)| store_rows::signal(id, &format!("L{i}"), "message", 1000.0 - i as f64))
            .collect();
        store.put_signals(&signals).await.unwrap();
        assert_eq!(store.session_states(&long).await.unwrap().len(), long.len(), "{backend}");
        let read = store.signals_of(&long).await.unwrap();
        let mut expected = signals.clone();
        expected.reverse();
        assert_eq!(read, expected, "{backend}: every row, oldest first across the parts");
        assert!(store.session_states(&[]).await.unwrap().is_empty());
        assert!(store.signals_of(&[]).await.unwrap().is_empty());
        if let Some(settings) = settings {
            drop_database(&settings).await;
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_calls_through_the_batched_store_each_get_their_own_rows() {
    let dir = tempfile::tempdir().unwrap();
    for (inner, settings) in stores("concurrent_calls_through_the_batched_store", dir.path()).await {
        let backend = inner.backend();
        let store = Batched::wrap(inner.clone());
        let ids = ids(300);
        // Every session writes its rows at the same moment, then reads them back: a read
        // made after a write returned must see it.
        let jobs = ids.iter().enumerate().map(|(i, id)| {
            let store = store.clone();
            let id = id.clone();
            async move {
                store.put_cascade_session(&store_rows::cascade(&id)).await.unwrap();
                store.put_session_state(&store_rows::state(&id, 1, SessionStatus::Running)).await.unwrap();
                store.put_signal(&store_rows::signal(&id, &format!("sig-{i}"), "message", 5.0)).await.unwrap();
                store.put_checkpoint(&store_rows::checkpoint(&id, 0, 1, 10)).await.unwrap();
                store.put_session_state(&store_rows::state(&id, 2, SessionStatus::Completed)).await.unwrap();
                let (state, cascade, signals, now) = tokio::try_join!(
                    store.session_state(&id),
                    store.cascade_session(&id),
                    store.signals(&id),
                    store.now()
                )
                .unwrap();
                let state = state.expect("its row");
                assert_eq!((state.session_id.as_str(), state.version), (id.as_str(), 2), "{backend}");
                assert_eq!(cascade.expect("its cascade").session_id, id, "{backend}");
                assert_eq!(signals.len(), 1, "{backend}: {id:?} sees its own signal only");
                assert_eq!(signals[0].signal_id, format!("sig-{i}"), "{backend}");
                assert!(now > 1.7e9, "{backend}");
                assert!(store.session_state(&SessionId::new(format!("{id}-missing"))).await.unwrap().is_none());
            }
        });
        futures::future::join_all(jobs).await;
        // Written once each, not once per retry or per batch.
        let all = inner.session_states(&ids).await.unwrap();
        assert_eq!(all.len(), ids.len(), "{backend}");
        let signals = inner.signals_of(&ids).await.unwrap();
        let unique: HashSet<&str> = signals.iter().map(|s| s.signal_id.as_str()).collect();
        assert_eq!(unique.len(), ids.len(), "{backend}");
        if let Some(settings) = settings {
            drop_database(&settings).await;
        }
    }
}

//! Which sessions `windlass cleanup` removes (store.md, "Cleanup"): a pure function from the
//! sessions' rows, the parent links found in the log ([`child_links`] reads them), the
//! store's clock and the options to a [`Plan`]. Removing folders and rows is the command's
//! job (`cli::cleanup`).
//!
//! - Finished sessions (`completed`, `error`, `cancelled`) go when they ended at least
//!   `older_than` ago (`completed_at`, or `updated_at` when it is 0).
//! - Resumable ones (`orphaned`, or `starting`/`running`/`blocked` whose lease ran out) go only
//!   with `include_orphans`, and only when last seen at least `older_than` ago.
//! - Never: `queued` sessions, live sessions whose lease has not run out, unknown statuses.
//! - Child sessions (sub-cascades) go with their top-level session, never on their own while
//!   it stays; a child that is itself live under a running lease stays regardless.

use crate::session_id::SessionId;
use crate::store::{SessionStateRow, SessionStatus, Store, StoreError};
use serde::Serialize;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Child sessions (sub-cascades) have no session row of their own: the log links them to
/// their parent. No value from outside goes into this query.
const CHILD_LINKS: &str =
    "SELECT DISTINCT session_id, parent_session_id FROM unified_logs WHERE parent_session_id != ''";

/// (child, parent) pairs of every child session in the log.
pub async fn child_links(store: &dyn Store) -> Result<Vec<(String, String)>, StoreError> {
    Ok(links_of(store.query(CHILD_LINKS).await?.rows))
}

/// (child, parent) pairs from the rows of [`CHILD_LINKS`].
fn links_of(rows: Vec<Vec<Value>>) -> Vec<(String, String)> {
    rows.into_iter()
        .filter_map(|row| match row.as_slice() {
            [Value::String(child), Value::String(parent)] => Some((child.clone(), parent.clone())),
            _ => None,
        })
        .collect()
}

/// What the user asked for.
#[derive(Debug, Clone, Copy)]
pub struct CleanupOptions {
    pub older_than: Duration,
    pub include_orphans: bool,
}

/// Why a session is in the plan (in JSON: `{"kind": "finished", "ago_seconds": ...}`).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Reason {
    /// It finished this many seconds ago.
    Finished {
        #[serde(rename = "ago_seconds")]
        ago: f64,
    },
    /// It could be resumed (orphaned, or its lease ran out); last seen this many seconds ago.
    Orphaned {
        #[serde(rename = "ago_seconds")]
        ago: f64,
    },
    /// A child session of this (removed) session.
    ChildOf { parent: String },
}

/// One session to remove.
#[derive(Debug, Clone, PartialEq)]
pub struct Doomed {
    pub session_id: SessionId,
    /// As stored; `None` for a child session that has no row of its own.
    pub status: Option<SessionStatus>,
    pub reason: Reason,
}

/// One session of the plan with what it left behind: the record `cleanup --format json|ndjson`
/// prints.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Removal {
    pub session_id: SessionId,
    /// As stored; `None` for a child session that has no row of its own.
    pub status: Option<SessionStatus>,
    pub reason: Reason,
    /// Its artifacts folder, when it has one.
    pub folder: Option<PathBuf>,
    /// Bytes of that folder.
    pub folder_bytes: u64,
    /// Bytes of the spool files that hold only rows of this session and its plan.
    pub spool_bytes: u64,
    /// Whether its rows in the store go too (`--logs`).
    pub rows: bool,
    /// `folder_bytes + spool_bytes`.
    pub bytes: u64,
    /// `false` for `--dry-run`: nothing was removed.
    pub removed: bool,
}

impl Removal {
    /// `doomed` with what it left behind; `removed` says whether it is gone already.
    pub fn new(
        doomed: &Doomed,
        folder: Option<&Path>,
        folder_bytes: u64,
        spool_bytes: u64,
        rows: bool,
        removed: bool,
    ) -> Self {
        Removal {
            session_id: doomed.session_id.clone(),
            status: doomed.status,
            reason: doomed.reason.clone(),
            folder: folder.map(Path::to_path_buf),
            folder_bytes,
            spool_bytes,
            rows,
            bytes: folder_bytes + spool_bytes,
            removed,
        }
    }
}

/// The sessions to remove: each top-level session followed by its children.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct Plan {
    pub sessions: Vec<Doomed>,
}

impl Plan {
    pub fn ids(&self) -> Vec<SessionId> {
        self.sessions.iter().map(|d| d.session_id.clone()).collect()
    }
}

/// The plan for `rows` (the newest row of every session) and `links` (child, parent) pairs
/// from the log, judged at `now` (the store's clock, epoch seconds).
pub fn plan(rows: &[SessionStateRow], links: &[(String, String)], now: f64, opts: CleanupOptions) -> Plan {
    let by_id: HashMap<&str, &SessionStateRow> = rows.iter().map(|r| (r.session_id.as_str(), r)).collect();
    let mut children: BTreeMap<&str, BTreeSet<&str>> = BTreeMap::new();
    let row_links = rows.iter().map(|r| (r.session_id.as_str(), r.parent_session_id.as_str()));
    for (child, parent) in links.iter().map(|(c, p)| (c.as_str(), p.as_str())).chain(row_links) {
        if !parent.is_empty() && child != parent {
            children.entry(parent).or_default().insert(child);
        }
    }

    // Top-level sessions (no parent, or a parent the store no longer knows), oldest first.
    let mut roots: Vec<(&SessionStateRow, Reason)> = rows
        .iter()
        .filter(|r| r.parent_session_id.is_empty() || !by_id.contains_key(r.parent_session_id.as_str()))
        .filter_map(|r| own_reason(r, now, opts).map(|reason| (r, reason)))
        .collect();
    roots.sort_by(|(a, ra), (b, rb)| ago(rb).total_cmp(&ago(ra)).then(a.session_id.cmp(&b.session_id)));

    let mut taken: BTreeSet<&str> = BTreeSet::new();
    let mut out = Plan::default();
    for (row, reason) in roots {
        if !taken.insert(row.session_id.as_str()) {
            continue;
        }
        out.sessions.push(Doomed { session_id: row.session_id.clone(), status: Some(row.status), reason });
        // Depth first, so each child follows its parent; `taken` also stops link cycles.
        let mut stack = kids(&children, &row.session_id);
        while let Some((child, parent)) = stack.pop() {
            let child_row = by_id.get(child).copied();
            if child_row.is_some_and(|r| protected(r, now)) || !taken.insert(child) {
                continue;
            }
            out.sessions.push(Doomed {
                session_id: SessionId::new(child),
                status: child_row.map(|r| r.status),
                reason: Reason::ChildOf { parent: parent.to_string() },
            });
            stack.extend(kids(&children, child));
        }
    }
    out
}

/// The children of `parent` as (child, parent), in reverse order for popping off a stack.
fn kids<'a>(children: &BTreeMap<&'a str, BTreeSet<&'a str>>, parent: &str) -> Vec<(&'a str, &'a str)> {
    match children.get_key_value(parent) {
        Some((&p, set)) => set.iter().rev().map(|&k| (k, p)).collect(),
        None => Vec::new(),
    }
}

fn ago(reason: &Reason) -> f64 {
    match reason {
        Reason::Finished { ago } | Reason::Orphaned { ago } => *ago,
        Reason::ChildOf { .. } => 0.0,
    }
}

/// Why this session goes on its own account, if it does.
fn own_reason(row: &SessionStateRow, now: f64, opts: CleanupOptions) -> Option<Reason> {
    let status = row.status;
    let old_enough = |at: f64| {
        let ago = now - at;
        (ago >= opts.older_than.as_secs_f64()).then_some(ago)
    };
    if status.is_finished() {
        let ended = if row.completed_at > 0.0 { row.completed_at } else { row.updated_at };
        return old_enough(ended).map(|ago| Reason::Finished { ago });
    }
    if !opts.include_orphans || protected(row, now) {
        return None;
    }
    let resumable = status == SessionStatus::Orphaned || status.is_live();
    let last_seen = row.updated_at.max(row.heartbeat_at);
    resumable.then(|| old_enough(last_seen)).flatten().map(|ago| Reason::Orphaned { ago })
}

/// Never removed: queued sessions, live ones whose lease still runs, and statuses this build
/// does not know.
fn protected(row: &SessionStateRow, now: f64) -> bool {
    match row.status {
        SessionStatus::Unknown | SessionStatus::Queued => true,
        s if s.is_live() => row.heartbeat_at + row.lease_seconds >= now,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    const NOW: f64 = 1_700_000_000.0;

    #[test]
    fn a_removal_record_names_the_reason_and_the_bytes() {
        let doomed = Doomed {
            session_id: SessionId::new("s1"),
            status: Some(SessionStatus::Completed),
            reason: Reason::Finished { ago: 90.0 },
        };
        let r = Removal::new(&doomed, Some(Path::new("/d/s1")), 100, 20, true, false);
        let json = serde_json::to_value(&r).unwrap();
        assert_eq!(json["reason"], json!({"kind": "finished", "ago_seconds": 90.0}));
        assert_eq!((json["status"].as_str(), json["folder"].as_str()), (Some("completed"), Some("/d/s1")));
        assert_eq!((json["bytes"].as_u64(), json["removed"].as_bool()), (Some(120), Some(false)));
        let child = Doomed {
            session_id: SessionId::new("s1-c"),
            status: None,
            reason: Reason::ChildOf { parent: "s1".into() },
        };
        let json = serde_json::to_value(Removal::new(&child, None, 0, 0, false, false)).unwrap();
        assert_eq!((&json["reason"], &json["status"]), (&json!({"kind": "child_of", "parent": "s1"}), &Value::Null));
    }

    #[test]
    fn child_links_skip_odd_rows() {
        let rows = vec![vec![json!("p-c"), json!("p")], vec![json!(1), json!("p")], vec![json!("x")]];
        assert_eq!(links_of(rows), vec![("p-c".to_string(), "p".to_string())]);
    }
    const DAY: f64 = 86_400.0;

    fn row(id: &str, status: &str) -> SessionStateRow {
        SessionStateRow {
            version: 1,
            heartbeat_at: NOW - 10.0 * DAY,
            lease_seconds: 60.0,
            owner: "h:1".into(),
            owner_epoch: 1,
            started_at: NOW - 10.0 * DAY,
            updated_at: NOW - 10.0 * DAY,
            ..SessionStateRow::new(id, SessionStatus::from_stored(status), "c")
        }
    }

    fn finished(id: &str, status: &str, days_ago: f64) -> SessionStateRow {
        SessionStateRow { completed_at: NOW - days_ago * DAY, updated_at: NOW - days_ago * DAY, ..row(id, status) }
    }

    fn opts(days: u64, include_orphans: bool) -> CleanupOptions {
        CleanupOptions { older_than: Duration::from_secs(days * 86_400), include_orphans }
    }

    fn ids(p: &Plan) -> Vec<&str> {
        p.sessions.iter().map(|d| d.session_id.as_str()).collect()
    }

    #[test]
    fn finished_sessions_go_when_old_enough() {
        let rows = [
            finished("done-old", "completed", 8.0),
            finished("err-old", "error", 9.0),
            finished("cancel-old", "cancelled", 7.5),
            finished("done-new", "completed", 1.0),
        ];
        let p = plan(&rows, &[], NOW, opts(7, false));
        assert_eq!(ids(&p), ["err-old", "done-old", "cancel-old"], "oldest first");
        assert_eq!(p.sessions[0].reason, Reason::Finished { ago: 9.0 * DAY });
        assert_eq!(ids(&plan(&rows, &[], NOW, opts(0, false))).len(), 4);
    }

    #[test]
    fn completed_at_zero_falls_back_to_updated_at() {
        let mut r = finished("x", "error", 8.0);
        r.completed_at = 0.0;
        assert_eq!(ids(&plan(&[r.clone()], &[], NOW, opts(7, false))), ["x"]);
        r.updated_at = NOW - DAY;
        assert!(plan(&[r], &[], NOW, opts(7, false)).sessions.is_empty());
    }

    #[test]
    fn running_queued_and_unknown_sessions_stay() {
        let live = SessionStateRow { heartbeat_at: NOW - 5.0, ..row("live", "running") };
        let blocked = SessionStateRow { heartbeat_at: NOW - 30.0, ..row("waiting", "blocked") };
        let rows = [live, blocked, row("queued", "queued"), row("odd", "paused")];
        for include_orphans in [false, true] {
            assert!(plan(&rows, &[], NOW, opts(0, include_orphans)).sessions.is_empty());
        }
    }

    #[test]
    fn resumable_sessions_go_only_with_include_orphans_and_when_old_enough() {
        let expired = row("expired", "running"); // heartbeat 10 days ago, lease 60 s
        let orphaned = row("orphaned", "orphaned");
        let recent =
            SessionStateRow { heartbeat_at: NOW - 120.0, updated_at: NOW - 120.0, ..row("recent", "starting") };
        let rows = [expired, orphaned, recent];
        assert!(plan(&rows, &[], NOW, opts(7, false)).sessions.is_empty());
        let p = plan(&rows, &[], NOW, opts(7, true));
        assert_eq!(ids(&p), ["expired", "orphaned"]);
        assert_eq!(p.sessions[1].reason, Reason::Orphaned { ago: 10.0 * DAY });
        assert_eq!(ids(&plan(&rows, &[], NOW, opts(0, true))), ["expired", "orphaned", "recent"]);
    }

    #[test]
    fn children_go_with_their_parent_and_never_alone() {
        let parent = finished("p", "completed", 8.0);
        let child_row = SessionStateRow { parent_session_id: "p".into(), ..finished("p-c2", "completed", 8.0) };
        let links = vec![
            ("p-c1".to_string(), "p".to_string()),
            ("p-c1-g".to_string(), "p-c1".to_string()),
            ("other-c".to_string(), "other".to_string()),
        ];
        let p = plan(&[parent.clone(), child_row.clone()], &links, NOW, opts(7, false));
        assert_eq!(ids(&p), ["p", "p-c1", "p-c1-g", "p-c2"]);
        assert_eq!(p.sessions[2].reason, Reason::ChildOf { parent: "p-c1".into() });
        assert_eq!(p.sessions[1].status, None);

        // The parent stays (too recent): its children stay too, even old finished ones.
        let young = finished("p", "completed", 1.0);
        assert!(plan(&[young, child_row.clone()], &links, NOW, opts(7, false)).sessions.is_empty());

        // A child whose parent the store no longer knows is judged on its own.
        assert_eq!(ids(&plan(&[child_row], &links, NOW, opts(7, false))), ["p-c2"]);
    }

    #[test]
    fn a_live_child_stays_and_cycles_end() {
        let parent = finished("p", "completed", 8.0);
        let live_child =
            SessionStateRow { parent_session_id: "p".into(), heartbeat_at: NOW, ..row("p-live", "running") };
        let links = vec![("p".to_string(), "p-x".to_string()), ("p-x".to_string(), "p".to_string())];
        let p = plan(&[parent, live_child], &links, NOW, opts(7, false));
        assert_eq!(ids(&p), ["p", "p-x"]);
    }
}


use builtin;
use str;

set edit:completion:arg-completer[windlass] = {|@words|
    fn spaces {|n|
        builtin:repeat $n ' ' | str:join ''
    }
    fn cand {|text desc|
        edit:complex-candidate $text &display=$text' '(spaces (- 14 (wcswidth $text)))$desc
    }
    var command = 'windlass'
    for word $words[1..-1] {
        if (str:has-prefix $word '-') {
            break
        }
        set command = $command';'$word
    }
    var completions = [
        &'windlass'= {
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand -V 'Print version'
            cand --version 'Print version'
            cand run 'Run a cascade in this process, start to finish'
            cand resume 'Continue a session from its last checkpoint, on any machine that reaches the store'
            cand signal 'Send a message to a running session, or fire a named signal'
            cand cancel 'Ask a running session to stop at the next boundary'
            cand sessions 'List sessions, or show one with `sessions show`'
            cand logs 'Print a session''s log rows'
            cand orphans 'List sessions whose heartbeat lease expired, and mark them orphaned'
            cand worker 'Run submitted sessions and recover orphans, as a stateless worker'
            cand submit 'Queue a run in the store for any worker, and print its session id'
            cand schedules 'Register, list and remove cascades'' cron and webhook triggers'
            cand serve 'Serve the HTTP API and the web page over the store'
            cand cleanup 'Remove the artifacts of finished sessions'
            cand check 'Load and validate cascades without running them'
            cand sql 'Run a read-only SQL query on the store'
            cand schema 'Print the JSON Schema of the cascade format, for editors and other tools'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'windlass;run'= {
            cand --input 'The cascade''s input: a JSON object, @file.json to read one from a file, or - for stdin'
            cand -i 'Set one input field to a string; repeatable, and wins over the same key in --input'
            cand --session 'Id for the new session (default: generated)'
            cand --model 'Model for phases that name none [env: WINDLASS_DEFAULT_MODEL]'
            cand --base-url 'Base URL of any OpenAI-compatible endpoint [env: WINDLASS_BASE_URL]'
            cand --format 'What goes to stdout: the final output, one JSON result, or JSON events as they happen'
            cand --max-cost 'Stop before spending more than this many US dollars (exit 5)'
            cand --timeout 'Give up after this long, e.g. 30m: a session still waiting on a human or a signal exits 75, one still running exits 1; both can be resumed'
            cand --record 'Write every model exchange of the session (sub-cascades included) to FILE, a YAML cassette to commit and replay'
            cand --replay 'Answer every model call from the cassette FILE, with no network and no API key; a call it has no answer for stops the run (exit 7) with a diff against the closest recorded one'
            cand --replay-or-record 'Answer from the cassette FILE what it has; send the rest and add it to FILE'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --allow-shell 'Allow linux_shell, run_code and shell: tools to run local subprocesses [env: WINDLASS_ALLOW_SHELL]'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;resume'= {
            cand --from-phase 'Restart from this phase instead of the one after the last checkpoint'
            cand --model 'Model for phases that name none [env: WINDLASS_DEFAULT_MODEL]'
            cand --base-url 'Base URL of any OpenAI-compatible endpoint [env: WINDLASS_BASE_URL]'
            cand --format 'What goes to stdout: the final output, one JSON result, or JSON events as they happen'
            cand --max-cost 'Stop before spending more than this many US dollars (exit 5)'
            cand --timeout 'Give up after this long, e.g. 30m: a session still waiting on a human or a signal exits 75, one still running exits 1; both can be resumed'
            cand --record 'Write every model exchange of the session (sub-cascades included) to FILE, a YAML cassette to commit and replay'
            cand --replay 'Answer every model call from the cassette FILE, with no network and no API key; a call it has no answer for stops the run (exit 7) with a diff against the closest recorded one'
            cand --replay-or-record 'Answer from the cassette FILE what it has; send the rest and add it to FILE'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --force 'Claim the session at once, even if its heartbeat lease has not run out (the old owner, if still alive, is fenced off at its next write)'
            cand --allow-shell 'Allow linux_shell, run_code and shell: tools to run local subprocesses [env: WINDLASS_ALLOW_SHELL]'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;signal'= {
            cand --name 'Fire the named signal that `await_signal` waits on, instead of sending a message'
            cand --payload 'JSON payload carried by the named signal'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;cancel'= {
            cand --reason 'Why, recorded with the session'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;sessions'= {
            cand --status 'Only sessions in this state'
            cand --cascade 'Only sessions of this cascade (its cascade_id)'
            cand --limit 'Show at most this many sessions, newest first'
            cand --format 'How to print the sessions: a table, or every field of each session''s row'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand show 'Show one session: status, phase, heartbeat, owner, cost, tokens, error'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'windlass;sessions;show'= {
            cand --format 'How to print the session: text, or every field of its row'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;sessions;help'= {
            cand show 'Show one session: status, phase, heartbeat, owner, cost, tokens, error'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'windlass;sessions;help;show'= {
        }
        &'windlass;sessions;help;help'= {
        }
        &'windlass;logs'= {
            cand --format 'How to print the rows: one line each for people, or every row in full (`ndjson` streams while following; `json` prints one array when the log ends)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand -f 'Keep printing new rows while the session runs, from any machine that reaches the store'
            cand --follow 'Keep printing new rows while the session runs, from any machine that reaches the store'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;orphans'= {
            cand --format 'How to print the orphans: a table, or every field of each (its status when found as `was`); `--resume` progress goes to stderr either way'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --resume 'Claim each orphan and resume it in this process'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;worker'= {
            cand --concurrency 'How many sessions to run at once'
            cand --listen 'Serve /health, /ready, /metrics, the HTTP API and the page on this address, e.g. 127.0.0.1:9100; anything but loopback needs WINDLASS_API_TOKEN'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --once 'Run what is queued and the orphans found now, then exit'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;submit'= {
            cand --input 'The cascade''s input: a JSON object, @file.json to read one from a file, or - for stdin'
            cand -i 'Set one input field to a string; repeatable, and wins over the same key in --input'
            cand --session 'Id for the new session (default: generated)'
            cand --model 'Model for phases that name none [env: WINDLASS_DEFAULT_MODEL]'
            cand --max-cost 'Stop the run before it spends more than this many US dollars'
            cand --timeout 'Give the run this long once a worker starts it, e.g. 30m'
            cand --replay 'Answer the run''s model calls from this cassette: its text is stored with the session, so any worker replays it with no network'
            cand --format 'How to print the new session''s id'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;schedules'= {
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
            cand add 'Register the file''s `cron` and `webhook` triggers (again: replaces them); every worker sharing the store fires each cron tick once, `windlass serve` takes the webhooks'
            cand list 'List the registered triggers with the next time each cron trigger fires'
            cand remove 'Stop a registered trigger'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'windlass;schedules;add'= {
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;schedules;list'= {
            cand --format 'How to print them: a table, or every field of each'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;schedules;remove'= {
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;schedules;help'= {
            cand add 'Register the file''s `cron` and `webhook` triggers (again: replaces them); every worker sharing the store fires each cron tick once, `windlass serve` takes the webhooks'
            cand list 'List the registered triggers with the next time each cron trigger fires'
            cand remove 'Stop a registered trigger'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'windlass;schedules;help;add'= {
        }
        &'windlass;schedules;help;list'= {
        }
        &'windlass;schedules;help;remove'= {
        }
        &'windlass;schedules;help;help'= {
        }
        &'windlass;serve'= {
            cand --listen 'Address to listen on; anything but loopback needs WINDLASS_API_TOKEN'
            cand --root 'The folder cascades may be submitted from by name [default: the working directory]'
            cand --poll 'How often the store is read for the sessions that browsers and clients watch'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;cleanup'= {
            cand --older-than 'Only sessions that finished at least this long ago, e.g. 12h or 30d'
            cand --format 'How to print the plan: a table, or per session its reason, folder, bytes and whether it was removed (false with --dry-run)'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --dry-run 'List what would be removed, and remove nothing'
            cand --logs 'Also delete the sessions'' rows from the store (logs, state, checkpoints, signals)'
            cand --include-orphans 'Also clean up orphaned sessions, which could otherwise still be resumed'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;check'= {
            cand --format 'How to print the diagnostics on stdout'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand --strict 'Treat warnings as errors'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;sql'= {
            cand --format 'How to print the rows'
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;schema'= {
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;completions'= {
            cand --color 'When to colour output: auto colours a terminal unless NO_COLOR is set'
            cand -q 'Print nothing on stderr except errors: no progress, no summaries'
            cand --quiet 'Print nothing on stderr except errors: no progress, no summaries'
            cand --no-progress 'Print plain timestamped lines on stderr instead of the live progress display'
            cand -h 'Print help (see more with ''--help'')'
            cand --help 'Print help (see more with ''--help'')'
        }
        &'windlass;help'= {
            cand run 'Run a cascade in this process, start to finish'
            cand resume 'Continue a session from its last checkpoint, on any machine that reaches the store'
            cand signal 'Send a message to a running session, or fire a named signal'
            cand cancel 'Ask a running session to stop at the next boundary'
            cand sessions 'List sessions, or show one with `sessions show`'
            cand logs 'Print a session''s log rows'
            cand orphans 'List sessions whose heartbeat lease expired, and mark them orphaned'
            cand worker 'Run submitted sessions and recover orphans, as a stateless worker'
            cand submit 'Queue a run in the store for any worker, and print its session id'
            cand schedules 'Register, list and remove cascades'' cron and webhook triggers'
            cand serve 'Serve the HTTP API and the web page over the store'
            cand cleanup 'Remove the artifacts of finished sessions'
            cand check 'Load and validate cascades without running them'
            cand sql 'Run a read-only SQL query on the store'
            cand schema 'Print the JSON Schema of the cascade format, for editors and other tools'
            cand completions 'Print a shell completion script'
            cand help 'Print this message or the help of the given subcommand(s)'
        }
        &'windlass;help;run'= {
        }
        &'windlass;help;resume'= {
        }
        &'windlass;help;signal'= {
        }
        &'windlass;help;cancel'= {
        }
        &'windlass;help;sessions'= {
            cand show 'Show one session: status, phase, heartbeat, owner, cost, tokens, error'
        }
        &'windlass;help;sessions;show'= {
        }
        &'windlass;help;logs'= {
        }
        &'windlass;help;orphans'= {
        }
        &'windlass;help;worker'= {
        }
        &'windlass;help;submit'= {
        }
        &'windlass;help;schedules'= {
            cand add 'Register the file''s `cron` and `webhook` triggers (again: replaces them); every worker sharing the store fires each cron tick once, `windlass serve` takes the webhooks'
            cand list 'List the registered triggers with the next time each cron trigger fires'
            cand remove 'Stop a registered trigger'
        }
        &'windlass;help;schedules;add'= {
        }
        &'windlass;help;schedules;list'= {
        }
        &'windlass;help;schedules;remove'= {
        }
        &'windlass;help;serve'= {
        }
        &'windlass;help;cleanup'= {
        }
        &'windlass;help;check'= {
        }
        &'windlass;help;sql'= {
        }
        &'windlass;help;schema'= {
        }
        &'windlass;help;completions'= {
        }
        &'windlass;help;help'= {
        }
    ]
    $completions[$command]
}


using namespace System.Management.Automation
using namespace System.Management.Automation.Language

Register-ArgumentCompleter -Native -CommandName 'windlass' -ScriptBlock {
    param($wordToComplete, $commandAst, $cursorPosition)

    $commandElements = $commandAst.CommandElements
    $command = @(
        'windlass'
        for ($i = 1; $i -lt $commandElements.Count; $i++) {
            $element = $commandElements[$i]
            if ($element -isnot [StringConstantExpressionAst] -or
                $element.StringConstantType -ne [StringConstantType]::BareWord -or
                $element.Value.StartsWith('-') -or
                $element.Value -eq $wordToComplete) {
                break
        }
        $element.Value
    }) -join ';'

    $completions = @(switch ($command) {
        'windlass' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('-V', '-V ', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('--version', '--version', [CompletionResultType]::ParameterName, 'Print version')
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a cascade in this process, start to finish')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Continue a session from its last checkpoint, on any machine that reaches the store')
            [CompletionResult]::new('signal', 'signal', [CompletionResultType]::ParameterValue, 'Send a message to a running session, or fire a named signal')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Ask a running session to stop at the next boundary')
            [CompletionResult]::new('sessions', 'sessions', [CompletionResultType]::ParameterValue, 'List sessions, or show one with `sessions show`')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print a session''s log rows')
            [CompletionResult]::new('orphans', 'orphans', [CompletionResultType]::ParameterValue, 'List sessions whose heartbeat lease expired, and mark them orphaned')
            [CompletionResult]::new('worker', 'worker', [CompletionResultType]::ParameterValue, 'Run submitted sessions and recover orphans, as a stateless worker')
            [CompletionResult]::new('submit', 'submit', [CompletionResultType]::ParameterValue, 'Queue a run in the store for any worker, and print its session id')
            [CompletionResult]::new('schedules', 'schedules', [CompletionResultType]::ParameterValue, 'Register, list and remove cascades'' cron and webhook triggers')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve the HTTP API and the web page over the store')
            [CompletionResult]::new('cleanup', 'cleanup', [CompletionResultType]::ParameterValue, 'Remove the artifacts of finished sessions')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Load and validate cascades without running them')
            [CompletionResult]::new('sql', 'sql', [CompletionResultType]::ParameterValue, 'Run a read-only SQL query on the store')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of the cascade format, for editors and other tools')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'windlass;run' {
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'The cascade''s input: a JSON object, @file.json to read one from a file, or - for stdin')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Set one input field to a string; repeatable, and wins over the same key in --input')
            [CompletionResult]::new('--session', '--session', [CompletionResultType]::ParameterName, 'Id for the new session (default: generated)')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Model for phases that name none [env: WINDLASS_DEFAULT_MODEL]')
            [CompletionResult]::new('--base-url', '--base-url', [CompletionResultType]::ParameterName, 'Base URL of any OpenAI-compatible endpoint [env: WINDLASS_BASE_URL]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'What goes to stdout: the final output, one JSON result, or JSON events as they happen')
            [CompletionResult]::new('--max-cost', '--max-cost', [CompletionResultType]::ParameterName, 'Stop before spending more than this many US dollars (exit 5)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long, e.g. 30m: a session still waiting on a human or a signal exits 75, one still running exits 1; both can be resumed')
            [CompletionResult]::new('--record', '--record', [CompletionResultType]::ParameterName, 'Write every model exchange of the session (sub-cascades included) to FILE, a YAML cassette to commit and replay')
            [CompletionResult]::new('--replay', '--replay', [CompletionResultType]::ParameterName, 'Answer every model call from the cassette FILE, with no network and no API key; a call it has no answer for stops the run (exit 7) with a diff against the closest recorded one')
            [CompletionResult]::new('--replay-or-record', '--replay-or-record', [CompletionResultType]::ParameterName, 'Answer from the cassette FILE what it has; send the rest and add it to FILE')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--allow-shell', '--allow-shell', [CompletionResultType]::ParameterName, 'Allow linux_shell, run_code and shell: tools to run local subprocesses [env: WINDLASS_ALLOW_SHELL]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;resume' {
            [CompletionResult]::new('--from-phase', '--from-phase', [CompletionResultType]::ParameterName, 'Restart from this phase instead of the one after the last checkpoint')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Model for phases that name none [env: WINDLASS_DEFAULT_MODEL]')
            [CompletionResult]::new('--base-url', '--base-url', [CompletionResultType]::ParameterName, 'Base URL of any OpenAI-compatible endpoint [env: WINDLASS_BASE_URL]')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'What goes to stdout: the final output, one JSON result, or JSON events as they happen')
            [CompletionResult]::new('--max-cost', '--max-cost', [CompletionResultType]::ParameterName, 'Stop before spending more than this many US dollars (exit 5)')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give up after this long, e.g. 30m: a session still waiting on a human or a signal exits 75, one still running exits 1; both can be resumed')
            [CompletionResult]::new('--record', '--record', [CompletionResultType]::ParameterName, 'Write every model exchange of the session (sub-cascades included) to FILE, a YAML cassette to commit and replay')
            [CompletionResult]::new('--replay', '--replay', [CompletionResultType]::ParameterName, 'Answer every model call from the cassette FILE, with no network and no API key; a call it has no answer for stops the run (exit 7) with a diff against the closest recorded one')
            [CompletionResult]::new('--replay-or-record', '--replay-or-record', [CompletionResultType]::ParameterName, 'Answer from the cassette FILE what it has; send the rest and add it to FILE')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--force', '--force', [CompletionResultType]::ParameterName, 'Claim the session at once, even if its heartbeat lease has not run out (the old owner, if still alive, is fenced off at its next write)')
            [CompletionResult]::new('--allow-shell', '--allow-shell', [CompletionResultType]::ParameterName, 'Allow linux_shell, run_code and shell: tools to run local subprocesses [env: WINDLASS_ALLOW_SHELL]')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;signal' {
            [CompletionResult]::new('--name', '--name', [CompletionResultType]::ParameterName, 'Fire the named signal that `await_signal` waits on, instead of sending a message')
            [CompletionResult]::new('--payload', '--payload', [CompletionResultType]::ParameterName, 'JSON payload carried by the named signal')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;cancel' {
            [CompletionResult]::new('--reason', '--reason', [CompletionResultType]::ParameterName, 'Why, recorded with the session')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;sessions' {
            [CompletionResult]::new('--status', '--status', [CompletionResultType]::ParameterName, 'Only sessions in this state')
            [CompletionResult]::new('--cascade', '--cascade', [CompletionResultType]::ParameterName, 'Only sessions of this cascade (its cascade_id)')
            [CompletionResult]::new('--limit', '--limit', [CompletionResultType]::ParameterName, 'Show at most this many sessions, newest first')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print the sessions: a table, or every field of each session''s row')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one session: status, phase, heartbeat, owner, cost, tokens, error')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'windlass;sessions;show' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print the session: text, or every field of its row')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;sessions;help' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one session: status, phase, heartbeat, owner, cost, tokens, error')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'windlass;sessions;help;show' {
            break
        }
        'windlass;sessions;help;help' {
            break
        }
        'windlass;logs' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print the rows: one line each for people, or every row in full (`ndjson` streams while following; `json` prints one array when the log ends)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-f', '-f', [CompletionResultType]::ParameterName, 'Keep printing new rows while the session runs, from any machine that reaches the store')
            [CompletionResult]::new('--follow', '--follow', [CompletionResultType]::ParameterName, 'Keep printing new rows while the session runs, from any machine that reaches the store')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;orphans' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print the orphans: a table, or every field of each (its status when found as `was`); `--resume` progress goes to stderr either way')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--resume', '--resume', [CompletionResultType]::ParameterName, 'Claim each orphan and resume it in this process')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;worker' {
            [CompletionResult]::new('--concurrency', '--concurrency', [CompletionResultType]::ParameterName, 'How many sessions to run at once')
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Serve /health, /ready, /metrics, the HTTP API and the page on this address, e.g. 127.0.0.1:9100; anything but loopback needs WINDLASS_API_TOKEN')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--once', '--once', [CompletionResultType]::ParameterName, 'Run what is queued and the orphans found now, then exit')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;submit' {
            [CompletionResult]::new('--input', '--input', [CompletionResultType]::ParameterName, 'The cascade''s input: a JSON object, @file.json to read one from a file, or - for stdin')
            [CompletionResult]::new('-i', '-i', [CompletionResultType]::ParameterName, 'Set one input field to a string; repeatable, and wins over the same key in --input')
            [CompletionResult]::new('--session', '--session', [CompletionResultType]::ParameterName, 'Id for the new session (default: generated)')
            [CompletionResult]::new('--model', '--model', [CompletionResultType]::ParameterName, 'Model for phases that name none [env: WINDLASS_DEFAULT_MODEL]')
            [CompletionResult]::new('--max-cost', '--max-cost', [CompletionResultType]::ParameterName, 'Stop the run before it spends more than this many US dollars')
            [CompletionResult]::new('--timeout', '--timeout', [CompletionResultType]::ParameterName, 'Give the run this long once a worker starts it, e.g. 30m')
            [CompletionResult]::new('--replay', '--replay', [CompletionResultType]::ParameterName, 'Answer the run''s model calls from this cassette: its text is stored with the session, so any worker replays it with no network')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print the new session''s id')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;schedules' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register the file''s `cron` and `webhook` triggers (again: replaces them); every worker sharing the store fires each cron tick once, `windlass serve` takes the webhooks')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the registered triggers with the next time each cron trigger fires')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Stop a registered trigger')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'windlass;schedules;add' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;schedules;list' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print them: a table, or every field of each')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;schedules;remove' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;schedules;help' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register the file''s `cron` and `webhook` triggers (again: replaces them); every worker sharing the store fires each cron tick once, `windlass serve` takes the webhooks')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the registered triggers with the next time each cron trigger fires')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Stop a registered trigger')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'windlass;schedules;help;add' {
            break
        }
        'windlass;schedules;help;list' {
            break
        }
        'windlass;schedules;help;remove' {
            break
        }
        'windlass;schedules;help;help' {
            break
        }
        'windlass;serve' {
            [CompletionResult]::new('--listen', '--listen', [CompletionResultType]::ParameterName, 'Address to listen on; anything but loopback needs WINDLASS_API_TOKEN')
            [CompletionResult]::new('--root', '--root', [CompletionResultType]::ParameterName, 'The folder cascades may be submitted from by name [default: the working directory]')
            [CompletionResult]::new('--poll', '--poll', [CompletionResultType]::ParameterName, 'How often the store is read for the sessions that browsers and clients watch')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;cleanup' {
            [CompletionResult]::new('--older-than', '--older-than', [CompletionResultType]::ParameterName, 'Only sessions that finished at least this long ago, e.g. 12h or 30d')
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print the plan: a table, or per session its reason, folder, bytes and whether it was removed (false with --dry-run)')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--dry-run', '--dry-run', [CompletionResultType]::ParameterName, 'List what would be removed, and remove nothing')
            [CompletionResult]::new('--logs', '--logs', [CompletionResultType]::ParameterName, 'Also delete the sessions'' rows from the store (logs, state, checkpoints, signals)')
            [CompletionResult]::new('--include-orphans', '--include-orphans', [CompletionResultType]::ParameterName, 'Also clean up orphaned sessions, which could otherwise still be resumed')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;check' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print the diagnostics on stdout')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('--strict', '--strict', [CompletionResultType]::ParameterName, 'Treat warnings as errors')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;sql' {
            [CompletionResult]::new('--format', '--format', [CompletionResultType]::ParameterName, 'How to print the rows')
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;schema' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;completions' {
            [CompletionResult]::new('--color', '--color', [CompletionResultType]::ParameterName, 'When to colour output: auto colours a terminal unless NO_COLOR is set')
            [CompletionResult]::new('-q', '-q', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--quiet', '--quiet', [CompletionResultType]::ParameterName, 'Print nothing on stderr except errors: no progress, no summaries')
            [CompletionResult]::new('--no-progress', '--no-progress', [CompletionResultType]::ParameterName, 'Print plain timestamped lines on stderr instead of the live progress display')
            [CompletionResult]::new('-h', '-h', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            [CompletionResult]::new('--help', '--help', [CompletionResultType]::ParameterName, 'Print help (see more with ''--help'')')
            break
        }
        'windlass;help' {
            [CompletionResult]::new('run', 'run', [CompletionResultType]::ParameterValue, 'Run a cascade in this process, start to finish')
            [CompletionResult]::new('resume', 'resume', [CompletionResultType]::ParameterValue, 'Continue a session from its last checkpoint, on any machine that reaches the store')
            [CompletionResult]::new('signal', 'signal', [CompletionResultType]::ParameterValue, 'Send a message to a running session, or fire a named signal')
            [CompletionResult]::new('cancel', 'cancel', [CompletionResultType]::ParameterValue, 'Ask a running session to stop at the next boundary')
            [CompletionResult]::new('sessions', 'sessions', [CompletionResultType]::ParameterValue, 'List sessions, or show one with `sessions show`')
            [CompletionResult]::new('logs', 'logs', [CompletionResultType]::ParameterValue, 'Print a session''s log rows')
            [CompletionResult]::new('orphans', 'orphans', [CompletionResultType]::ParameterValue, 'List sessions whose heartbeat lease expired, and mark them orphaned')
            [CompletionResult]::new('worker', 'worker', [CompletionResultType]::ParameterValue, 'Run submitted sessions and recover orphans, as a stateless worker')
            [CompletionResult]::new('submit', 'submit', [CompletionResultType]::ParameterValue, 'Queue a run in the store for any worker, and print its session id')
            [CompletionResult]::new('schedules', 'schedules', [CompletionResultType]::ParameterValue, 'Register, list and remove cascades'' cron and webhook triggers')
            [CompletionResult]::new('serve', 'serve', [CompletionResultType]::ParameterValue, 'Serve the HTTP API and the web page over the store')
            [CompletionResult]::new('cleanup', 'cleanup', [CompletionResultType]::ParameterValue, 'Remove the artifacts of finished sessions')
            [CompletionResult]::new('check', 'check', [CompletionResultType]::ParameterValue, 'Load and validate cascades without running them')
            [CompletionResult]::new('sql', 'sql', [CompletionResultType]::ParameterValue, 'Run a read-only SQL query on the store')
            [CompletionResult]::new('schema', 'schema', [CompletionResultType]::ParameterValue, 'Print the JSON Schema of the cascade format, for editors and other tools')
            [CompletionResult]::new('completions', 'completions', [CompletionResultType]::ParameterValue, 'Print a shell completion script')
            [CompletionResult]::new('help', 'help', [CompletionResultType]::ParameterValue, 'Print this message or the help of the given subcommand(s)')
            break
        }
        'windlass;help;run' {
            break
        }
        'windlass;help;resume' {
            break
        }
        'windlass;help;signal' {
            break
        }
        'windlass;help;cancel' {
            break
        }
        'windlass;help;sessions' {
            [CompletionResult]::new('show', 'show', [CompletionResultType]::ParameterValue, 'Show one session: status, phase, heartbeat, owner, cost, tokens, error')
            break
        }
        'windlass;help;sessions;show' {
            break
        }
        'windlass;help;logs' {
            break
        }
        'windlass;help;orphans' {
            break
        }
        'windlass;help;worker' {
            break
        }
        'windlass;help;submit' {
            break
        }
        'windlass;help;schedules' {
            [CompletionResult]::new('add', 'add', [CompletionResultType]::ParameterValue, 'Register the file''s `cron` and `webhook` triggers (again: replaces them); every worker sharing the store fires each cron tick once, `windlass serve` takes the webhooks')
            [CompletionResult]::new('list', 'list', [CompletionResultType]::ParameterValue, 'List the registered triggers with the next time each cron trigger fires')
            [CompletionResult]::new('remove', 'remove', [CompletionResultType]::ParameterValue, 'Stop a registered trigger')
            break
        }
        'windlass;help;schedules;add' {
            break
        }
        'windlass;help;schedules;list' {
            break
        }
        'windlass;help;schedules;remove' {
            break
        }
        'windlass;help;serve' {
            break
        }
        'windlass;help;cleanup' {
            break
        }
        'windlass;help;check' {
            break
        }
        'windlass;help;sql' {
            break
        }
        'windlass;help;schema' {
            break
        }
        'windlass;help;completions' {
            break
        }
        'windlass;help;help' {
            break
        }
    })

    $completions.Where{ $_.CompletionText -like "$wordToComplete*" } |
        Sort-Object -Property ListItemText
}

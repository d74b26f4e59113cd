# Print an optspec for argparse to handle cmd's options that are independent of any subcommand.
function __fish_windlass_global_optspecs
    string join \n color= q/quiet no-progress h/help V/version
end

function __fish_windlass_needs_command
    # Figure out if the current invocation already has a command.
    set -l cmd (commandline -opc)
    set -e cmd[1]
    argparse -s (__fish_windlass_global_optspecs) -- $cmd 2>/dev/null
    or return
    if set -q argv[1]
        # Also print the command, so this can be used to figure out what it is.
        echo $argv[1]
        return 1
    end
    return 0
end

function __fish_windlass_using_subcommand
    set -l cmd (__fish_windlass_needs_command)
    test -z "$cmd"
    and return 1
    contains -- $cmd[1] $argv
end

complete -c windlass -n "__fish_windlass_needs_command" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_needs_command" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_needs_command" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_needs_command" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_needs_command" -s V -l version -d 'Print version'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "run" -d 'Run a cascade in this process, start to finish'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "resume" -d 'Continue a session from its last checkpoint, on any machine that reaches the store'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "signal" -d 'Send a message to a running session, or fire a named signal'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "cancel" -d 'Ask a running session to stop at the next boundary'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "sessions" -d 'List sessions, or show one with `sessions show`'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "logs" -d 'Print a session\'s log rows'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "orphans" -d 'List sessions whose heartbeat lease expired, and mark them orphaned'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "worker" -d 'Run submitted sessions and recover orphans, as a stateless worker'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "submit" -d 'Queue a run in the store for any worker, and print its session id'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "schedules" -d 'Register, list and remove cascades\' cron and webhook triggers'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "serve" -d 'Serve the HTTP API and the web page over the store'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "cleanup" -d 'Remove the artifacts of finished sessions'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "check" -d 'Load and validate cascades without running them'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "sql" -d 'Run a read-only SQL query on the store'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "schema" -d 'Print the JSON Schema of the cascade format, for editors and other tools'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "completions" -d 'Print a shell completion script'
complete -c windlass -n "__fish_windlass_needs_command" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c windlass -n "__fish_windlass_using_subcommand run" -l input -d 'The cascade\'s input: a JSON object, @file.json to read one from a file, or - for stdin' -r
complete -c windlass -n "__fish_windlass_using_subcommand run" -s i -d 'Set one input field to a string; repeatable, and wins over the same key in --input' -r
complete -c windlass -n "__fish_windlass_using_subcommand run" -l session -d 'Id for the new session (default: generated)' -r
complete -c windlass -n "__fish_windlass_using_subcommand run" -l model -d 'Model for phases that name none [env: WINDLASS_DEFAULT_MODEL]' -r
complete -c windlass -n "__fish_windlass_using_subcommand run" -l base-url -d 'Base URL of any OpenAI-compatible endpoint [env: WINDLASS_BASE_URL]' -r
complete -c windlass -n "__fish_windlass_using_subcommand run" -l format -d 'What goes to stdout: the final output, one JSON result, or JSON events as they happen' -r -f -a "human\t'The final output of the cascade and nothing else'
json\t'One JSON document: session, status, output, state, lineage, errors, tokens, cost'
ndjson\t'One JSON event per line while it runs, then the result document'"
complete -c windlass -n "__fish_windlass_using_subcommand run" -l max-cost -d 'Stop before spending more than this many US dollars (exit 5)' -r
complete -c windlass -n "__fish_windlass_using_subcommand run" -l timeout -d 'Give up after this long, e.g. 30m: a session still waiting on a human or a signal exits 75, one still running exits 1; both can be resumed' -r
complete -c windlass -n "__fish_windlass_using_subcommand run" -l record -d 'Write every model exchange of the session (sub-cascades included) to FILE, a YAML cassette to commit and replay' -r -F
complete -c windlass -n "__fish_windlass_using_subcommand run" -l replay -d 'Answer every model call from the cassette FILE, with no network and no API key; a call it has no answer for stops the run (exit 7) with a diff against the closest recorded one' -r -F
complete -c windlass -n "__fish_windlass_using_subcommand run" -l replay-or-record -d 'Answer from the cassette FILE what it has; send the rest and add it to FILE' -r -F
complete -c windlass -n "__fish_windlass_using_subcommand run" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand run" -l allow-shell -d 'Allow linux_shell, run_code and shell: tools to run local subprocesses [env: WINDLASS_ALLOW_SHELL]'
complete -c windlass -n "__fish_windlass_using_subcommand run" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand run" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand run" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand resume" -l from-phase -d 'Restart from this phase instead of the one after the last checkpoint' -r
complete -c windlass -n "__fish_windlass_using_subcommand resume" -l model -d 'Model for phases that name none [env: WINDLASS_DEFAULT_MODEL]' -r
complete -c windlass -n "__fish_windlass_using_subcommand resume" -l base-url -d 'Base URL of any OpenAI-compatible endpoint [env: WINDLASS_BASE_URL]' -r
complete -c windlass -n "__fish_windlass_using_subcommand resume" -l format -d 'What goes to stdout: the final output, one JSON result, or JSON events as they happen' -r -f -a "human\t'The final output of the cascade and nothing else'
json\t'One JSON document: session, status, output, state, lineage, errors, tokens, cost'
ndjson\t'One JSON event per line while it runs, then the result document'"
complete -c windlass -n "__fish_windlass_using_subcommand resume" -l max-cost -d 'Stop before spending more than this many US dollars (exit 5)' -r
complete -c windlass -n "__fish_windlass_using_subcommand resume" -l timeout -d 'Give up after this long, e.g. 30m: a session still waiting on a human or a signal exits 75, one still running exits 1; both can be resumed' -r
complete -c windlass -n "__fish_windlass_using_subcommand resume" -l record -d 'Write every model exchange of the session (sub-cascades included) to FILE, a YAML cassette to commit and replay' -r -F
complete -c windlass -n "__fish_windlass_using_subcommand resume" -l replay -d 'Answer every model call from the cassette FILE, with no network and no API key; a call it has no answer for stops the run (exit 7) with a diff against the closest recorded one' -r -F
complete -c windlass -n "__fish_windlass_using_subcommand resume" -l replay-or-record -d 'Answer from the cassette FILE what it has; send the rest and add it to FILE' -r -F
complete -c windlass -n "__fish_windlass_using_subcommand resume" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand resume" -l force -d 'Claim the session at once, even if its heartbeat lease has not run out (the old owner, if still alive, is fenced off at its next write)'
complete -c windlass -n "__fish_windlass_using_subcommand resume" -l allow-shell -d 'Allow linux_shell, run_code and shell: tools to run local subprocesses [env: WINDLASS_ALLOW_SHELL]'
complete -c windlass -n "__fish_windlass_using_subcommand resume" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand resume" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand resume" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand signal" -l name -d 'Fire the named signal that `await_signal` waits on, instead of sending a message' -r
complete -c windlass -n "__fish_windlass_using_subcommand signal" -l payload -d 'JSON payload carried by the named signal' -r
complete -c windlass -n "__fish_windlass_using_subcommand signal" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand signal" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand signal" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand signal" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand cancel" -l reason -d 'Why, recorded with the session' -r
complete -c windlass -n "__fish_windlass_using_subcommand cancel" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand cancel" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand cancel" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand cancel" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and not __fish_seen_subcommand_from show help" -l status -d 'Only sessions in this state' -r -f -a "queued\t'Submitted, waiting for a worker'
starting\t'Claimed by a worker, not yet running a phase'
running\t'Running a phase'
blocked\t'Waiting on a human or a signal'
completed\t'Finished successfully'
error\t'Ended by an error'
cancelled\t'Stopped by `windlass cancel`'
orphaned\t'Its worker stopped heartbeating; can be resumed'"
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and not __fish_seen_subcommand_from show help" -l cascade -d 'Only sessions of this cascade (its cascade_id)' -r
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and not __fish_seen_subcommand_from show help" -l limit -d 'Show at most this many sessions, newest first' -r
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and not __fish_seen_subcommand_from show help" -l format -d 'How to print the sessions: a table, or every field of each session\'s row' -r -f -a "text\t'Aligned text for people'
json\t'One JSON document (an array of records, or one record)'
ndjson\t'One JSON record per line'"
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and not __fish_seen_subcommand_from show help" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and not __fish_seen_subcommand_from show help" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and not __fish_seen_subcommand_from show help" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and not __fish_seen_subcommand_from show help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and not __fish_seen_subcommand_from show help" -f -a "show" -d 'Show one session: status, phase, heartbeat, owner, cost, tokens, error'
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and not __fish_seen_subcommand_from show help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and __fish_seen_subcommand_from show" -l format -d 'How to print the session: text, or every field of its row' -r -f -a "text\t'Aligned text for people'
json\t'One JSON document (an array of records, or one record)'
ndjson\t'One JSON record per line'"
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and __fish_seen_subcommand_from show" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and __fish_seen_subcommand_from show" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and __fish_seen_subcommand_from show" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and __fish_seen_subcommand_from show" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "show" -d 'Show one session: status, phase, heartbeat, owner, cost, tokens, error'
complete -c windlass -n "__fish_windlass_using_subcommand sessions; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c windlass -n "__fish_windlass_using_subcommand logs" -l format -d 'How to print the rows: one line each for people, or every row in full (`ndjson` streams while following; `json` prints one array when the log ends)' -r -f -a "text\t'Aligned text for people'
json\t'One JSON document (an array of records, or one record)'
ndjson\t'One JSON record per line'"
complete -c windlass -n "__fish_windlass_using_subcommand logs" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand logs" -s f -l follow -d 'Keep printing new rows while the session runs, from any machine that reaches the store'
complete -c windlass -n "__fish_windlass_using_subcommand logs" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand logs" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand logs" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand orphans" -l format -d 'How to print the orphans: a table, or every field of each (its status when found as `was`); `--resume` progress goes to stderr either way' -r -f -a "text\t'Aligned text for people'
json\t'One JSON document (an array of records, or one record)'
ndjson\t'One JSON record per line'"
complete -c windlass -n "__fish_windlass_using_subcommand orphans" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand orphans" -l resume -d 'Claim each orphan and resume it in this process'
complete -c windlass -n "__fish_windlass_using_subcommand orphans" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand orphans" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand orphans" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand worker" -l concurrency -d 'How many sessions to run at once' -r
complete -c windlass -n "__fish_windlass_using_subcommand worker" -l listen -d 'Serve /health, /ready, /metrics, the HTTP API and the page on this address, e.g. 127.0.0.1:9100; anything but loopback needs WINDLASS_API_TOKEN' -r
complete -c windlass -n "__fish_windlass_using_subcommand worker" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand worker" -l once -d 'Run what is queued and the orphans found now, then exit'
complete -c windlass -n "__fish_windlass_using_subcommand worker" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand worker" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand worker" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand submit" -l input -d 'The cascade\'s input: a JSON object, @file.json to read one from a file, or - for stdin' -r
complete -c windlass -n "__fish_windlass_using_subcommand submit" -s i -d 'Set one input field to a string; repeatable, and wins over the same key in --input' -r
complete -c windlass -n "__fish_windlass_using_subcommand submit" -l session -d 'Id for the new session (default: generated)' -r
complete -c windlass -n "__fish_windlass_using_subcommand submit" -l model -d 'Model for phases that name none [env: WINDLASS_DEFAULT_MODEL]' -r
complete -c windlass -n "__fish_windlass_using_subcommand submit" -l max-cost -d 'Stop the run before it spends more than this many US dollars' -r
complete -c windlass -n "__fish_windlass_using_subcommand submit" -l timeout -d 'Give the run this long once a worker starts it, e.g. 30m' -r
complete -c windlass -n "__fish_windlass_using_subcommand submit" -l replay -d 'Answer the run\'s model calls from this cassette: its text is stored with the session, so any worker replays it with no network' -r -F
complete -c windlass -n "__fish_windlass_using_subcommand submit" -l format -d 'How to print the new session\'s id' -r -f -a "human\t'The session id alone on a line'
json\t'{"session_id": "..."}'"
complete -c windlass -n "__fish_windlass_using_subcommand submit" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand submit" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand submit" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand submit" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and not __fish_seen_subcommand_from add list remove help" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and not __fish_seen_subcommand_from add list remove help" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and not __fish_seen_subcommand_from add list remove help" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and not __fish_seen_subcommand_from add list remove help" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and not __fish_seen_subcommand_from add list remove help" -f -a "add" -d 'Register the file\'s `cron` and `webhook` triggers (again: replaces them); every worker sharing the store fires each cron tick once, `windlass serve` takes the webhooks'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and not __fish_seen_subcommand_from add list remove help" -f -a "list" -d 'List the registered triggers with the next time each cron trigger fires'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and not __fish_seen_subcommand_from add list remove help" -f -a "remove" -d 'Stop a registered trigger'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and not __fish_seen_subcommand_from add list remove help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from add" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from add" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from add" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from add" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from list" -l format -d 'How to print them: a table, or every field of each' -r -f -a "text\t'Aligned text for people'
json\t'One JSON document (an array of records, or one record)'
ndjson\t'One JSON record per line'"
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from list" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from list" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from list" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from list" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from remove" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from remove" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from remove" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from remove" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from help" -f -a "add" -d 'Register the file\'s `cron` and `webhook` triggers (again: replaces them); every worker sharing the store fires each cron tick once, `windlass serve` takes the webhooks'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from help" -f -a "list" -d 'List the registered triggers with the next time each cron trigger fires'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from help" -f -a "remove" -d 'Stop a registered trigger'
complete -c windlass -n "__fish_windlass_using_subcommand schedules; and __fish_seen_subcommand_from help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c windlass -n "__fish_windlass_using_subcommand serve" -l listen -d 'Address to listen on; anything but loopback needs WINDLASS_API_TOKEN' -r
complete -c windlass -n "__fish_windlass_using_subcommand serve" -l root -d 'The folder cascades may be submitted from by name [default: the working directory]' -r -F
complete -c windlass -n "__fish_windlass_using_subcommand serve" -l poll -d 'How often the store is read for the sessions that browsers and clients watch' -r
complete -c windlass -n "__fish_windlass_using_subcommand serve" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand serve" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand serve" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand serve" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand cleanup" -l older-than -d 'Only sessions that finished at least this long ago, e.g. 12h or 30d' -r
complete -c windlass -n "__fish_windlass_using_subcommand cleanup" -l format -d 'How to print the plan: a table, or per session its reason, folder, bytes and whether it was removed (false with --dry-run)' -r -f -a "text\t'Aligned text for people'
json\t'One JSON document (an array of records, or one record)'
ndjson\t'One JSON record per line'"
complete -c windlass -n "__fish_windlass_using_subcommand cleanup" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand cleanup" -l dry-run -d 'List what would be removed, and remove nothing'
complete -c windlass -n "__fish_windlass_using_subcommand cleanup" -l logs -d 'Also delete the sessions\' rows from the store (logs, state, checkpoints, signals)'
complete -c windlass -n "__fish_windlass_using_subcommand cleanup" -l include-orphans -d 'Also clean up orphaned sessions, which could otherwise still be resumed'
complete -c windlass -n "__fish_windlass_using_subcommand cleanup" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand cleanup" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand cleanup" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand check" -l format -d 'How to print the diagnostics on stdout' -r -f -a "human\t'One `file:line:col: severity: message` line per diagnostic'
json\t'One JSON document: {"files": [{"path", "diagnostics"}], "errors", "warnings"}'
ndjson\t'One JSON object per diagnostic, a line each: {"file", "line", "column", "severity", "code", "message", "field"}; nothing for a clean file'"
complete -c windlass -n "__fish_windlass_using_subcommand check" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand check" -l strict -d 'Treat warnings as errors'
complete -c windlass -n "__fish_windlass_using_subcommand check" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand check" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand check" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand sql" -l format -d 'How to print the rows' -r -f -a "table\t'An aligned table for people'
json\t'One JSON array of row objects'
csv\t'CSV with a header row'
tsv\t'Tab-separated values with a header row; tabs, newlines and backslashes in a value are written \\t, \\n and \\\\'
ndjson\t'One JSON object per row, a line each'"
complete -c windlass -n "__fish_windlass_using_subcommand sql" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand sql" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand sql" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand sql" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand schema" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand schema" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand schema" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand schema" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand completions" -l color -d 'When to colour output: auto colours a terminal unless NO_COLOR is set' -r -f -a "auto\t'Colour when writing to a terminal and NO_COLOR is not set'
always\t'Always colour, even into a pipe'
never\t'Never colour'"
complete -c windlass -n "__fish_windlass_using_subcommand completions" -s q -l quiet -d 'Print nothing on stderr except errors: no progress, no summaries'
complete -c windlass -n "__fish_windlass_using_subcommand completions" -l no-progress -d 'Print plain timestamped lines on stderr instead of the live progress display'
complete -c windlass -n "__fish_windlass_using_subcommand completions" -s h -l help -d 'Print help (see more with \'--help\')'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "run" -d 'Run a cascade in this process, start to finish'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "resume" -d 'Continue a session from its last checkpoint, on any machine that reaches the store'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "signal" -d 'Send a message to a running session, or fire a named signal'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "cancel" -d 'Ask a running session to stop at the next boundary'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "sessions" -d 'List sessions, or show one with `sessions show`'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "logs" -d 'Print a session\'s log rows'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "orphans" -d 'List sessions whose heartbeat lease expired, and mark them orphaned'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "worker" -d 'Run submitted sessions and recover orphans, as a stateless worker'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "submit" -d 'Queue a run in the store for any worker, and print its session id'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "schedules" -d 'Register, list and remove cascades\' cron and webhook triggers'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "serve" -d 'Serve the HTTP API and the web page over the store'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "cleanup" -d 'Remove the artifacts of finished sessions'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "check" -d 'Load and validate cascades without running them'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "sql" -d 'Run a read-only SQL query on the store'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "schema" -d 'Print the JSON Schema of the cascade format, for editors and other tools'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "completions" -d 'Print a shell completion script'
complete -c windlass -n "__fish_windlass_using_subcommand help; and not __fish_seen_subcommand_from run resume signal cancel sessions logs orphans worker submit schedules serve cleanup check sql schema completions help" -f -a "help" -d 'Print this message or the help of the given subcommand(s)'
complete -c windlass -n "__fish_windlass_using_subcommand help; and __fish_seen_subcommand_from sessions" -f -a "show" -d 'Show one session: status, phase, heartbeat, owner, cost, tokens, error'
complete -c windlass -n "__fish_windlass_using_subcommand help; and __fish_seen_subcommand_from schedules" -f -a "add" -d 'Register the file\'s `cron` and `webhook` triggers (again: replaces them); every worker sharing the store fires each cron tick once, `windlass serve` takes the webhooks'
complete -c windlass -n "__fish_windlass_using_subcommand help; and __fish_seen_subcommand_from schedules" -f -a "list" -d 'List the registered triggers with the next time each cron trigger fires'
complete -c windlass -n "__fish_windlass_using_subcommand help; and __fish_seen_subcommand_from schedules" -f -a "remove" -d 'Stop a registered trigger'

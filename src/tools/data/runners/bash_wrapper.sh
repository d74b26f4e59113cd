# The bash_data wrapper of windlass: bash wrapper.sh STATE SCRIPT INPUT OUTPUT
# Runs SCRIPT in this shell with INPUT (the input table as CSV) on stdin and OUTPUT as stdout.
# With a STATE file (persist_session, the default), the variables, functions and folder the
# earlier bash_data phases of the session left are restored first and saved again at the end.
__windlass_state=$1
__windlass_script=$2
__windlass_in=$3
__windlass_out=$4
set --
if [ -n "$__windlass_state" ] && [ -f "$__windlass_state" ]; then
    . "$__windlass_state" 2>/dev/null
fi
__windlass_save() {
    local status=$?
    if [ -n "$__windlass_state" ]; then
        {
            declare -p | grep -Ev '^declare -[^ ]* (BASH[A-Z_]*|SHELLOPTS|EUID|UID|PPID|GROUPS|FUNCNAME|PIPESTATUS|RANDOM|SRANDOM|SECONDS|LINENO|HISTCMD|EPOCHSECONDS|EPOCHREALTIME|OPTIND|OPTARG|SHLVL|DIRSTACK|PWD|OLDPWD|_|SESSION_DB|SESSION_DIR|SESSION_ID|PHASE_NAME|CELL_NAME|__windlass_[a-z_]*)(=|$)'
            declare -f
            printf 'cd %q 2>/dev/null\n' "$PWD"
        } >"$__windlass_state.new" 2>/dev/null && mv -f "$__windlass_state.new" "$__windlass_state"
    fi
    exit "$status"
}
trap __windlass_save EXIT
. "$__windlass_script" <"$__windlass_in" >"$__windlass_out"

# bash completion for wifiprovd(8)                                 -*- shell-script -*-
# Options come from `wifiprovd --help` itself, so new ones complete without editing this file.

_wifiprovd()
{
    local cur prev words cword
    COMPREPLY=()
    if declare -F _init_completion >/dev/null; then
        _init_completion -s || return
    else
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
    fi

    case $prev in
        --transport | -t)
            COMPREPLY=($(compgen -W 'http ble http,ble' -- "$cur"))
            return
            ;;
        --security | -s)
            COMPREPLY=($(compgen -W '0 1 2' -- "$cur"))
            return
            ;;
        --wifi | -w)
            COMPREPLY=($(compgen -W 'auto networkmanager wpa_supplicant sim' -- "$cur"))
            return
            ;;
        --config | -c | --sec2-verifier-file | --sim-config | --qr-png | --qr-svg)
            COMPREPLY=($(compgen -f -- "$cur"))
            return
            ;;
        --state-dir | -d | --wpa-ctrl-dir)
            COMPREPLY=($(compgen -d -- "$cur"))
            return
            ;;
        --interface | -i)
            COMPREPLY=($(compgen -W "$(ls /sys/class/net 2>/dev/null)" -- "$cur"))
            return
            ;;
    esac
    # An option that takes a value (shown as "--name VALUE" in --help): nothing to offer.
    local help
    help=$("${words[0]}" --help 2>/dev/null)
    if [[ $prev == --* ]] && grep -Eq -- "^ +(-., )?${prev}(\\[=| )[A-Z]" <<<"$help"; then
        return
    fi
    if [[ $cur == -* || -z $cur ]]; then
        local opts
        opts=$(grep -Eo -- '--(\[no-\])?[a-z0-9][a-z0-9-]*' <<<"$help" |
            sed -e 's/^--\[no-\]\(.*\)/--\1 --no-\1/' | tr ' ' '\n' | sort -u)
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
    fi
} &&
    complete -F _wifiprovd wifiprovd

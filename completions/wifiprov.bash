# bash completion for wifiprov(1)                                  -*- shell-script -*-

_wifiprov()
{
    local cur prev words cword
    COMPREPLY=()
    if declare -F _init_completion >/dev/null; then
        _init_completion -s || return
    else
        # Without the bash-completion package: the plain variables.
        words=("${COMP_WORDS[@]}")
        cword=$COMP_CWORD
        cur=${COMP_WORDS[COMP_CWORD]}
        prev=${COMP_WORDS[COMP_CWORD - 1]}
    fi

    local commands="provision scan status reset reprov custom version gen-cred qr discover help"
    local opts="--transport --address --sec --pop --pop-file --username --password --password-file
        --ssid --passphrase --passphrase-file --custom-data --endpoint --timeout --qr --json --progress
        --verbose -v --debug --salt-len --out --force --name --help -h --version
        --service_name --service-name --sec_ver --sec2_username --sec2_pwd --custom_data --proto_ver
        --proto-ver --sec2_gen_cred --sec2_salt_len --reset --reprov --adapter --ble_adapter"

    case $prev in
        --transport)
            COMPREPLY=($(compgen -W 'http console softap httpd ble' -- "$cur"))
            return
            ;;
        --adapter | --ble_adapter)
            COMPREPLY=($(compgen -W "$(ls /sys/class/bluetooth 2>/dev/null)" -- "$cur"))
            return
            ;;
        --sec | --sec_ver)
            COMPREPLY=($(compgen -W '0 1 2' -- "$cur"))
            return
            ;;
        --pop-file | --password-file | --passphrase-file | --out)
            if declare -F _filedir >/dev/null; then
                _filedir
            else
                COMPREPLY=($(compgen -f -- "$cur"))
            fi
            return
            ;;
        --endpoint)
            COMPREPLY=($(compgen -W 'custom-data' -- "$cur"))
            return
            ;;
        --address | --service_name | --service-name | --pop | --username | --sec2_username | --password | \
            --sec2_pwd | --ssid | --passphrase | --custom-data | --custom_data | --timeout | --qr | \
            --salt-len | --sec2_salt_len | --name | --proto_ver | --proto-ver)
            return
            ;;
    esac

    if [[ $cur == -* ]]; then
        COMPREPLY=($(compgen -W "$opts" -- "$cur"))
        return
    fi

    local i have_command=
    for ((i = 1; i < cword; i++)); do
        if [[ " $commands " == *" ${words[i]} "* ]]; then
            have_command=1
            break
        fi
    done
    if [[ -z $have_command ]]; then
        COMPREPLY=($(compgen -W "$commands" -- "$cur"))
    fi
} &&
    complete -F _wifiprov wifiprov

# ex: filetype=sh

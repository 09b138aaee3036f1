// The page: asks the device for its security scheme, unlocks a session with the PoP or
// user name and password (also taken from the URL fragment, #pop=... or
// #username=...&password=..., so a QR code can open it ready to go), shows the scan,
// sends the chosen network and follows the device's status to the end.
import { Client, httpPost } from './client.js';
import { pickCrypto, randomBytes } from './crypto.js';
import * as pb from './proto.js';
import { ProvError, utf8 } from './security.js';

const $ = (id) => document.getElementById(id);
const SECTIONS = ['s-start', 's-cred', 's-nets', 's-pass', 's-wait', 's-done', 's-fail'];
const AUTH = ['open', 'WEP', 'WPA', 'WPA2', 'WPA/WPA2', 'WPA2-Enterprise', 'WPA3', 'WPA2/WPA3'];
const POLL_MS = 1000;
const CONNECT_LIMIT_MS = 120000;
const RECONNECTS = 3; // new sessions while following the status, when the connection breaks

const st = {
    client: null,
    secVer: null,
    nets: [],
    net: null, // { ssid: Uint8Array, name, auth } or { hidden: true }
    busy: false,
};

function show(id, focus = true) {
    for (const s of SECTIONS) $(s).hidden = s !== id;
    document.body.dataset.step = id.slice(2);
    const h = $(id).querySelector('h2');
    if (focus && h) h.focus();
}

function setError(text) {
    const e = $('error');
    e.textContent = text || '';
    e.hidden = !text;
}

const decoder = new TextDecoder('utf-8', { fatal: false });
const ssidText = (b) => decoder.decode(b);

// The fragment's credentials, then removed from the address bar and history.
function fragmentCreds() {
    const h = location.hash.replace(/^#/, '');
    if (!h) return {};
    const p = new URLSearchParams(h);
    history.replaceState(null, '', location.pathname + location.search);
    return { pop: p.get('pop'), username: p.get('username') || p.get('user'), password: p.get('password') };
}

function explain(e) {
    if (!(e instanceof ProvError)) return `Something went wrong in this page: ${e && e.message ? e.message : e}.`;
    switch (e.kind) {
        case 'transport':
            return 'The device stopped answering. Make sure this phone or computer is still joined to the device’s Wi-Fi, then start again.';
        case 'device':
            return `This does not look like the right device: ${e.message}. Do not send it your Wi-Fi password.`;
        default:
            return `The device sent something this page cannot use (${e.message}). Start again.`;
    }
}

// --- step 1: the device and its scheme ---------------------------------------------------

async function boot() {
    setError('');
    show('s-start', false);
    $('start-retry').hidden = true;
    $('start-text').textContent = 'Contacting the device…';
    try {
        const crypto = await pickCrypto();
        document.body.dataset.crypto = crypto.name;
        st.client = new Client(httpPost(), crypto, randomBytes);
        const info = await st.client.version();
        // Without sec_ver, the reference client's rule: security 0 only when advertised (P10).
        st.secVer = info.secVer !== null ? info.secVer : info.caps.includes('no_sec') ? 0 : 1;
        st.noPop = info.caps.includes('no_pop');
    } catch (e) {
        $('start-text').textContent = 'The device does not answer.';
        setError(explain(e));
        $('start-retry').hidden = false;
        return;
    }
    const names = {
        0: 'security 0 (no encryption)',
        1: 'security 1 (X25519, AES-CTR)',
        2: 'security 2 (SRP-6a, AES-GCM)',
    };
    $('sec').textContent = `Protocol ${names[st.secVer] || 'security ' + st.secVer}; every message after the unlock step is encrypted.`;
    if (st.secVer === 0) {
        $('sec').textContent = 'This device uses security 0: what you send, including the Wi-Fi password, is not encrypted.';
        $('warn').textContent =
            'Warning: this device does not encrypt provisioning (security 0). Anyone nearby can read the Wi-Fi password you send.';
        $('warn').hidden = false;
        return unlock({});
    }
    if (st.secVer === 1 && st.noPop) return unlock({ pop: '' });
    credForm(fragmentCreds());
}

// --- step 2: PoP or user name and password -------------------------------------------------

function credForm(pre) {
    const two = st.secVer === 2;
    $('pop-row').hidden = two;
    $('user-row').hidden = !two;
    $('pass-row').hidden = !two;
    $('pop').required = !two;
    $('username').required = two;
    $('password').required = two;
    $('cred-help').textContent = two
        ? 'Enter the user name and password printed on the device or its label.'
        : 'Enter the proof of possession (PoP) printed on the device or its label.';
    if (pre.pop && !two) $('pop').value = pre.pop;
    if (two) {
        if (pre.username) $('username').value = pre.username;
        // The QR payload carries the security-2 password as "pop" (PROTOCOL.md §10).
        if (pre.password || pre.pop) $('password').value = pre.password || pre.pop;
    }
    show('s-cred');
    const ready = two ? $('username').value && $('password').value : $('pop').value;
    if (ready) submitCred();
    else (two ? ($('username').value ? $('password') : $('username')) : $('pop')).focus();
}

function credBusy(on, text) {
    st.busy = on;
    for (const id of ['pop', 'username', 'password', 'cred-go', 'cred-show']) $(id).disabled = on;
    $('cred-busy').hidden = !on;
    $('cred-busy-text').textContent = text || '';
}

async function submitCred() {
    if (st.busy) return;
    const two = st.secVer === 2;
    const creds = two ? { username: $('username').value, password: $('password').value } : { pop: $('pop').value };
    if (two ? !creds.username || !creds.password : !creds.pop) {
        setError(two ? 'Enter both the user name and the password.' : 'Enter the proof of possession.');
        (two && !creds.username ? $('username') : two ? $('password') : $('pop')).focus();
        return;
    }
    await unlock(creds);
}

async function unlock(creds) {
    setError('');
    credBusy(true, st.secVer === 2 ? 'Checking the user name and password…' : 'Checking the proof of possession…');
    try {
        await st.client.connect(st.secVer, creds);
        st.creds = creds; // kept in this page only, to reopen a session that breaks while connecting
    } catch (e) {
        credBusy(false);
        if (e instanceof ProvError && e.kind === 'credentials') {
            const two = st.secVer === 2;
            setError(
                two
                    ? 'The device did not accept this user name and password. Check them and try again.'
                    : 'The device did not accept this proof of possession. Check it and try again.',
            );
            show('s-cred', false);
            const f = two ? $('password') : $('pop');
            f.focus();
            f.select();
            return;
        }
        setError(explain(e));
        show('s-start', false);
        $('start-text').textContent = 'Could not unlock the device.';
        $('start-retry').hidden = false;
        return;
    }
    credBusy(false);
    scan();
}

// --- step 3: the scan --------------------------------------------------------------------

function bars(rssi) {
    const n = rssi >= -55 ? 4 : rssi >= -67 ? 3 : rssi >= -78 ? 2 : 1;
    const b = document.createElement('span');
    b.className = 'bars';
    b.setAttribute('aria-hidden', 'true');
    for (let i = 0; i < 4; i++) {
        const x = document.createElement('i');
        if (i < n) x.className = 'on';
        b.append(x);
    }
    return [b, n];
}

function lockIcon() {
    const ns = 'http://www.w3.org/2000/svg';
    const s = document.createElementNS(ns, 'svg');
    s.setAttribute('viewBox', '0 0 24 24');
    s.setAttribute('class', 'lock');
    s.setAttribute('aria-hidden', 'true');
    const p = document.createElementNS(ns, 'path');
    p.setAttribute('d', 'M7 10V7a5 5 0 0 1 10 0v3h1a1 1 0 0 1 1 1v10a1 1 0 0 1-1 1H6a1 1 0 0 1-1-1V11a1 1 0 0 1 1-1h1zm2 0h6V7a3 3 0 0 0-6 0v3z');
    s.append(p);
    return s;
}

function renderNets() {
    const ul = $('nets');
    ul.textContent = '';
    if (!st.nets.length) {
        const li = document.createElement('li');
        li.className = 'muted';
        li.textContent = 'No networks found. Scan again, or type the name of a hidden network.';
        ul.append(li);
    }
    st.nets.forEach((n, i) => {
        const li = document.createElement('li');
        const b = document.createElement('button');
        b.type = 'button';
        b.className = 'net';
        b.dataset.index = String(i);
        const [bar, level] = bars(n.rssi);
        const name = document.createElement('span');
        name.className = 'name';
        name.textContent = n.name;
        b.append(bar, name);
        if (n.auth !== 0) b.append(lockIcon());
        const kind = n.auth === 0 ? 'open' : `secured (${AUTH[n.auth] || 'mode ' + n.auth})`;
        b.setAttribute('aria-label', `${n.name}, signal ${level} of 4, ${kind}`);
        b.addEventListener('click', () => pickNet(n));
        li.append(b);
        ul.append(li);
    });
}

async function scan() {
    if (st.busy) return;
    st.busy = true;
    setError('');
    show('s-nets');
    $('scan-busy').hidden = false;
    $('rescan').disabled = true;
    try {
        const all = await st.client.scan();
        // One row per name: the strongest access point; hidden networks (no name) are left out.
        const best = new Map();
        for (const e of all) {
            const name = ssidText(e.ssid);
            if (!e.ssid.length) continue;
            const cur = best.get(name);
            if (!cur || e.rssi > cur.rssi) best.set(name, { ...e, name });
        }
        st.nets = [...best.values()].sort((a, b) => b.rssi - a.rssi);
        renderNets();
    } catch (e) {
        lost(e);
    } finally {
        st.busy = false;
        $('scan-busy').hidden = true;
        $('rescan').disabled = false;
    }
}

// --- step 4: the password ------------------------------------------------------------------

const needsPassphrase = (auth) => auth !== 0;

function pickNet(n) {
    st.net = n;
    setError('');
    $('pass-title').textContent = n.hidden ? 'Hidden network' : n.name;
    $('ssid-row').hidden = !n.hidden;
    const open = !n.hidden && !needsPassphrase(n.auth);
    $('open-note').hidden = !open;
    $('wpass-row').hidden = open;
    $('wshow-row').hidden = open;
    $('wpass').value = '';
    $('pass-hint').textContent = n.hidden
        ? 'Type the exact name; leave the password empty for an open network.'
        : n.auth === 5
          ? 'This is an enterprise network; the device may not be able to join it.'
          : open
            ? ''
            : 'The password of this Wi-Fi network (8 to 63 characters).';
    show('s-pass');
    (n.hidden ? $('ssid') : open ? $('pass-go') : $('wpass')).focus();
}

async function submitPass() {
    if (st.busy) return;
    const n = st.net;
    const ssid = n.hidden ? utf8($('ssid').value) : n.ssid;
    const name = n.hidden ? $('ssid').value : n.name;
    const open = !n.hidden && !needsPassphrase(n.auth);
    const pass = open ? new Uint8Array(0) : utf8($('wpass').value);
    if (ssid.length < 1 || ssid.length > 32) {
        setError('The network name must be 1 to 32 bytes long.');
        return $('ssid').focus();
    }
    if (pass.length > 63 || (!open && !n.hidden && n.auth !== 1 && pass.length < 8) || (n.hidden && pass.length && pass.length < 8)) {
        setError('A Wi-Fi password has 8 to 63 characters.');
        return $('wpass').focus();
    }
    setError('');
    await provision(ssid, pass, name);
}

// --- step 5: apply and follow the status ------------------------------------------------------

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function provision(ssid, pass, name) {
    st.busy = true;
    st.lastName = name;
    $('wait-title').textContent = `Connecting to ${name}`;
    $('wait-text').textContent = 'Sending the network details to the device…';
    show('s-wait');
    try {
        let s = await st.client.setConfig({ ssid, passphrase: pass });
        if (s !== pb.STATUS.SUCCESS) throw new ProvError('settings', 'the device refused these settings');
        s = await st.client.applyConfig();
        if (s !== pb.STATUS.SUCCESS) throw new ProvError('settings', 'the device could not apply these settings');
        $('wait-text').textContent = `The device is joining ${name}…`;
        const t0 = Date.now();
        let reconnects = 0;
        let broken = false;
        for (;;) {
            await sleep(POLL_MS);
            let g;
            try {
                // A lost exchange leaves the session's cipher out of step: a new session
                // (the device's Wi-Fi state is the same for every session), then ask again.
                if (broken) await st.client.connect(st.secVer, st.creds);
                broken = false;
                g = await st.client.getStatus();
            } catch (e) {
                // (The credentials were accepted before: a refused proof now is a broken connection too.)
                const retry = e instanceof ProvError && (e.kind === 'transport' || (broken && e.kind === 'credentials'));
                if (!retry || reconnects++ >= RECONNECTS) {
                    if (retry) e.whileJoining = name;
                    throw e;
                }
                broken = true;
                $('wait-text').textContent = `Lost contact with the device; reconnecting while it joins ${name}…`;
                continue;
            }
            if (g.state === pb.STA.CONNECTED) return done(name, g.connected);
            if (g.state === pb.STA.FAILED) return failed(name, g.failReason);
            if (g.attemptsRemaining !== undefined)
                $('wait-text').textContent = `An attempt to join ${name} failed; the device tries again (${g.attemptsRemaining} left)…`;
            if (Date.now() - t0 > CONNECT_LIMIT_MS) return failed(name, null);
        }
    } catch (e) {
        if (e instanceof ProvError && e.kind === 'settings') {
            show('s-pass');
            setError(`The device did not take these settings: ${e.message}.`);
            return;
        }
        lost(e);
    } finally {
        st.busy = false;
    }
}

function done(name, c) {
    const ip = c && c.ip4 ? c.ip4 : null;
    $('done-text').textContent = ip
        ? `The device joined ${name}. Its address on that network is ${ip}.`
        : `The device joined ${name}.`;
    show('s-done');
}

function failed(name, reason) {
    $('fail-title').textContent = `Could not join ${name}`;
    $('fail-text').textContent =
        reason === pb.FAIL.AUTH_ERROR
            ? `The Wi-Fi password for ${name} was not accepted. Check it and try again.`
            : reason === pb.FAIL.NETWORK_NOT_FOUND
              ? `The device cannot find a network called ${name}. Check the name, or move the device closer to the router.`
              : `The device did not manage to join ${name} in time.`;
    show('s-fail');
}

// Back to a state where new credentials can be applied (prov-ctrl Reset, §8.4).
async function resetThen(next) {
    if (st.busy) return;
    st.busy = true;
    $('fail-retry').disabled = $('fail-other').disabled = true;
    try {
        await st.client.ctrl(pb.CTRL.RESET);
        st.busy = false;
        next();
    } catch (e) {
        st.busy = false;
        lost(e);
    } finally {
        $('fail-retry').disabled = $('fail-other').disabled = false;
    }
}

function lost(e) {
    setError(
        e && e.whileJoining
            ? `Lost contact with the device while it was joining ${e.whileJoining}. It may have joined it (it then leaves setup mode); if it is still in setup mode, start again.`
            : explain(e),
    );
    show('s-start', false);
    $('start-text').textContent = 'Lost the session with the device.';
    $('start-retry').hidden = false;
}

// --- wiring --------------------------------------------------------------------------------

function init() {
    $('start-retry').addEventListener('click', boot);
    $('s-cred').addEventListener('submit', (ev) => {
        ev.preventDefault();
        submitCred();
    });
    $('cred-show').addEventListener('change', (ev) => {
        const t = ev.target.checked ? 'text' : 'password';
        $('pop').type = $('password').type = t;
    });
    $('rescan').addEventListener('click', scan);
    $('other').addEventListener('click', () => pickNet({ hidden: true, auth: -1 }));
    $('s-pass').addEventListener('submit', (ev) => {
        ev.preventDefault();
        submitPass();
    });
    $('wshow').addEventListener('change', (ev) => {
        $('wpass').type = ev.target.checked ? 'text' : 'password';
    });
    $('pass-back').addEventListener('click', () => {
        setError('');
        show('s-nets');
    });
    $('fail-retry').addEventListener('click', () => resetThen(() => pickNet(st.net)));
    $('fail-other').addEventListener('click', () => resetThen(() => show('s-nets')));
    boot();
}

init();

// The provisioning client: proto-ver, the handshake, then the prov-scan, prov-config and
// prov-ctrl commands, each one encrypted request and one response (PROTOCOL.md §8).
// @p post(endpoint, Uint8Array) -> Promise<Uint8Array> carries one exchange; it throws
// a ProvError('transport') when the device closes the connection without an answer.
import * as pb from './proto.js';
import { ProvError, newSession, utf8 } from './security.js';

// The parts of the proto-ver reply a client needs (§3.3); a non-JSON reply gives no
// capability information (security 0 assumed only if nothing says otherwise).
export function parseVersion(bytes) {
    const text = new TextDecoder().decode(bytes);
    let j;
    try {
        j = JSON.parse(text);
    } catch {
        return { raw: text, secVer: null, patch: 0, caps: [] };
    }
    const p = (j && j.prov) || {};
    return {
        raw: text,
        ver: p.ver,
        secVer: Number.isInteger(p.sec_ver) ? p.sec_ver : null,
        patch: Number.isInteger(p.sec_patch_ver) ? p.sec_patch_ver : 0,
        caps: Array.isArray(p.cap) ? p.cap : [],
    };
}

export class Client {
    constructor(post, crypto, rng) {
        this.post = post;
        this.crypto = crypto;
        this.rng = rng;
        this.session = null;
    }

    async version(body = '---') {
        this.info = parseVersion(await this.post('proto-ver', utf8(body)));
        return this.info;
    }

    // Runs the whole handshake. A transport failure on the proof step means the device
    // refused it: wrong PoP (security 1) or wrong user name or password (security 2).
    async connect(secVer, opts = {}) {
        const s = newSession(secVer, this.crypto, this.rng, { patch: this.info ? this.info.patch : 0, ...opts });
        this.session = null;
        let req = await s.start();
        for (let round = 0; req; round++) {
            let resp;
            try {
                resp = await this.post('prov-session', req);
            } catch (e) {
                if (e instanceof ProvError && e.kind === 'transport' && round === 1)
                    throw new ProvError('credentials', secVer === 2 ? 'wrong user name or password' : 'wrong proof of possession');
                throw e;
            }
            req = await s.step(resp);
        }
        this.session = s;
    }

    // One encrypted exchange on @p endpoint: plaintext in, plaintext out.
    async request(endpoint, plain) {
        if (!this.session) throw new ProvError('protocol', 'no session');
        const wire = await this.session.encrypt(plain);
        return this.session.decrypt(await this.post(endpoint, wire));
    }

    async call(endpoint, plain, fields, expectMsg) {
        const out = await this.request(endpoint, plain);
        let m;
        try {
            m = pb.decode(out, fields);
        } catch {
            throw new ProvError('protocol', `the device sent a ${endpoint} reply that cannot be read`);
        }
        if ((m.msg || 0) !== expectMsg) throw new ProvError('protocol', `unexpected ${endpoint} reply`);
        return m;
    }

    // Scan options default to what the reference client sends on HTTP.
    async scanStart(o = { blocking: true, groupChannels: 5, periodMs: 120 }) {
        const m = await this.call('prov-scan', pb.scanStart(o), pb.SCAN_PAYLOAD, pb.SCAN.RESP_START);
        return m.status || 0;
    }
    async scanStatus() {
        const m = await this.call('prov-scan', pb.scanStatus(), pb.SCAN_PAYLOAD, pb.SCAN.RESP_STATUS);
        const s = m.progress || {};
        return { finished: !!s.finished, count: s.count || 0 };
    }
    async scanResult(start, count) {
        const m = await this.call('prov-scan', pb.scanResult(start, count), pb.SCAN_PAYLOAD, pb.SCAN.RESP_RESULT);
        return ((m.result && m.result.entries) || []).map((e) => ({
            ssid: e.ssid || new Uint8Array(0),
            channel: e.channel || 0,
            rssi: e.rssi || 0,
            bssid: e.bssid || new Uint8Array(0),
            auth: e.auth || 0,
        }));
    }
    // Starts a blocking scan and reads every result, in pages.
    async scan(page = 16) {
        const st = await this.scanStart();
        if (st !== pb.STATUS.SUCCESS) throw new ProvError('protocol', 'the device could not start a scan');
        const { count } = await this.scanStatus();
        const all = [];
        for (let i = 0; i < count; i += page) all.push(...(await this.scanResult(i, Math.min(page, count - i))));
        return all;
    }

    async setConfig(c) {
        const m = await this.call('prov-config', pb.configSet(c), pb.CONFIG_PAYLOAD, pb.CONFIG.RESP_SET_CONFIG);
        return (m.setConfig && m.setConfig.status) || 0;
    }
    async applyConfig() {
        const m = await this.call('prov-config', pb.configApply(), pb.CONFIG_PAYLOAD, pb.CONFIG.RESP_APPLY);
        return (m.apply && m.apply.status) || 0;
    }
    // { state: STA.*, failReason?, attemptsRemaining?, connected?: {ip4, ssid, ...} }
    async getStatus() {
        const m = await this.call('prov-config', pb.configGetStatus(), pb.CONFIG_PAYLOAD, pb.CONFIG.RESP_GET_STATUS);
        const g = m.getStatus || {};
        const out = { status: g.status || 0, state: g.staState || 0 };
        if ('failReason' in g) out.failReason = g.failReason;
        if (g.attemptFailed) out.attemptsRemaining = g.attemptFailed.attemptsRemaining || 0;
        if (g.connected) out.connected = g.connected;
        return out;
    }
    async ctrl(msgType) {
        const m = await this.call('prov-ctrl', pb.ctrl(msgType), pb.CTRL_PAYLOAD, msgType + 1);
        return m.status || 0;
    }
}

// The HTTP transport of a page served by the device itself: POST /<endpoint> on the
// page's own origin; the browser keeps the session cookie. The device reports errors
// by closing the connection, which fetch sees as a network error. An exchange is given
// up after @p timeoutMs (the device holds a blocking scan's reply for up to 60 s).
export function httpPost(base = '', timeoutMs = 75000) {
    return async (endpoint, body) => {
        const abort = new AbortController();
        const timer = setTimeout(() => abort.abort(), timeoutMs);
        try {
            let r;
            try {
                r = await fetch(`${base}/${endpoint}`, {
                    method: 'POST',
                    body,
                    headers: { 'Content-Type': 'application/octet-stream' },
                    credentials: 'same-origin',
                    cache: 'no-store',
                    signal: abort.signal,
                });
            } catch {
                throw new ProvError(
                    'transport',
                    abort.signal.aborted ? 'the device did not answer in time' : 'the device closed the connection without an answer',
                );
            }
            if (r.status !== 200) throw new ProvError('transport', `the device answered HTTP ${r.status} on /${endpoint}`);
            return new Uint8Array(await r.arrayBuffer());
        } finally {
            clearTimeout(timer);
        }
    };
}

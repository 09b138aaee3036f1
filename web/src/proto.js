// The protobuf messages of the provisioning protocol (PROTOCOL.md §2), on the wire
// primitives of pbf. Encoders write fields in field-number order and leave out proto3
// zero values, as the reference client does, so requests match it byte for byte
// (§2.1: members of a oneof keep their presence, even when empty or zero).
import { PbfReader, PbfWriter } from 'pbf';

// SessionData / Sec*Payload message types (§2.3-§2.6)
export const SESSION = { CMD0: 0, RESP0: 1, CMD1: 2, RESP1: 3 };
// WiFiConfigPayload.msg (§2.8)
export const CONFIG = { GET_STATUS: 0, RESP_GET_STATUS: 1, SET_CONFIG: 2, RESP_SET_CONFIG: 3, APPLY: 4, RESP_APPLY: 5 };
// WiFiScanPayload.msg (§2.9)
export const SCAN = { START: 0, RESP_START: 1, STATUS: 2, RESP_STATUS: 3, RESULT: 4, RESP_RESULT: 5 };
// WiFiCtrlPayload.msg (§2.10)
export const CTRL = { RESET: 1, RESP_RESET: 2, REPROV: 3, RESP_REPROV: 4 };
// WifiStationState (§2.7)
export const STA = { CONNECTED: 0, CONNECTING: 1, DISCONNECTED: 2, FAILED: 3 };
// WifiConnectFailedReason (§2.7)
export const FAIL = { AUTH_ERROR: 0, NETWORK_NOT_FOUND: 1 };
// Status (§2.2)
export const STATUS = { SUCCESS: 0, INVALID_ARGUMENT: 4, INTERNAL_ERROR: 5 };

const EMPTY = () => {};

function varint(w, tag, v) {
    if (v) w.writeVarintField(tag, v);
}
function bytes(w, tag, b) {
    if (b && b.length) w.writeBytesField(tag, b);
}
function finish(w) {
    return w.finish().slice();
}

// Reads a message with @p fields: { number: [name, kind] }; kind 'u' unsigned varint,
// 'i' signed (int32), 'b' bytes, 's' string, 'z' bool, or a nested field table.
function read(r, fields, end) {
    const out = {};
    r.readFields(
        (tag, o, pr) => {
            const f = fields[tag];
            if (!f) return; // unknown fields are skipped by pbf
            const [name, kind] = f;
            const varintKind = kind === 'u' || kind === 'i' || kind === 'z';
            if (pr.type !== (varintKind ? 0 : 2)) return; // a wire type we do not expect: skipped
            let v;
            if (kind === 'u') v = pr.readVarint();
            else if (kind === 'i') v = pr.readVarint(true);
            else if (kind === 'b') v = pr.readBytes().slice();
            else if (kind === 's') v = pr.readString();
            else if (kind === 'z') v = pr.readBoolean();
            else v = read(pr, kind.fields, pr.readVarint() + pr.pos);
            if (kind.repeated) (o[name] ||= []).push(v);
            else o[name] = v;
        },
        out,
        end,
    );
    return out;
}

export function decode(buf, fields) {
    const r = new PbfReader(buf);
    const out = read(r, fields, r.length);
    if (r.pos !== r.length) throw new Error('truncated protobuf message');
    return out;
}

const msg = (fields, repeated = false) => ({ fields, repeated });

// --- prov-session ------------------------------------------------------------------

const SEC0 = { 1: ['msg', 'u'], 21: ['sr', msg({ 1: ['status', 'u'] })] };
const SEC1 = {
    1: ['msg', 'u'],
    21: ['sr0', msg({ 1: ['status', 'u'], 2: ['devicePubkey', 'b'], 3: ['deviceRandom', 'b'] })],
    23: ['sr1', msg({ 1: ['status', 'u'], 3: ['deviceVerifyData', 'b'] })],
};
const SEC2 = {
    1: ['msg', 'u'],
    21: ['sr0', msg({ 1: ['status', 'u'], 2: ['devicePubkey', 'b'], 3: ['deviceSalt', 'b'] })],
    23: ['sr1', msg({ 1: ['status', 'u'], 2: ['deviceProof', 'b'], 3: ['deviceNonce', 'b'] })],
};
export const SESSION_DATA = {
    2: ['secVer', 'u'],
    10: ['sec0', msg(SEC0)],
    11: ['sec1', msg(SEC1)],
    12: ['sec2', msg(SEC2)],
};

// SessionData{sec_ver, sec<N>{msg, <payloadField>{...}}}; @p body writes the inner message.
export function sessionData(secVer, msgType, payloadField, body) {
    const w = new PbfWriter();
    varint(w, 2, secVer);
    w.writeMessage(10 + secVer, (_, pw) => {
        varint(pw, 1, msgType);
        pw.writeMessage(payloadField, body, null);
    });
    return finish(w);
}

export const sec0Cmd = () => sessionData(0, 0, 20, EMPTY);
export const sec1Cmd0 = (clientPubkey) => sessionData(1, SESSION.CMD0, 20, (_, w) => bytes(w, 1, clientPubkey));
export const sec1Cmd1 = (verify) => sessionData(1, SESSION.CMD1, 22, (_, w) => bytes(w, 2, verify));
export const sec2Cmd0 = (username, clientPubkey) =>
    sessionData(2, SESSION.CMD0, 20, (_, w) => {
        bytes(w, 1, username);
        bytes(w, 2, clientPubkey);
    });
export const sec2Cmd1 = (proof) => sessionData(2, SESSION.CMD1, 22, (_, w) => bytes(w, 1, proof));

// --- prov-config ---------------------------------------------------------------------

export const CONFIG_PAYLOAD = {
    1: ['msg', 'u'],
    11: [
        'getStatus',
        msg({
            1: ['status', 'u'],
            2: ['staState', 'u'],
            10: ['failReason', 'u'],
            11: [
                'connected',
                msg({ 1: ['ip4', 's'], 2: ['auth', 'u'], 3: ['ssid', 'b'], 4: ['bssid', 'b'], 5: ['channel', 'i'] }),
            ],
            12: ['attemptFailed', msg({ 1: ['attemptsRemaining', 'u'] })],
        }),
    ],
    13: ['setConfig', msg({ 1: ['status', 'u'] })],
    15: ['apply', msg({ 1: ['status', 'u'] })],
};

export function configGetStatus() {
    const w = new PbfWriter();
    w.writeMessage(10, EMPTY, null);
    return finish(w);
}
// @p c: { ssid: Uint8Array, passphrase: Uint8Array, bssid?: Uint8Array, channel?: number }
export function configSet(c) {
    const w = new PbfWriter();
    varint(w, 1, CONFIG.SET_CONFIG);
    w.writeMessage(
        12,
        (_, pw) => {
            bytes(pw, 1, c.ssid);
            bytes(pw, 2, c.passphrase);
            bytes(pw, 3, c.bssid);
            varint(pw, 4, c.channel);
        },
        null,
    );
    return finish(w);
}
export function configApply() {
    const w = new PbfWriter();
    varint(w, 1, CONFIG.APPLY);
    return finish(w);
}

// --- prov-scan -----------------------------------------------------------------------

export const SCAN_PAYLOAD = {
    1: ['msg', 'u'],
    2: ['status', 'u'],
    11: ['start', msg({})],
    13: ['progress', msg({ 1: ['finished', 'z'], 2: ['count', 'u'] })],
    15: [
        'result',
        msg({
            1: [
                'entries',
                msg({ 1: ['ssid', 'b'], 2: ['channel', 'u'], 3: ['rssi', 'i'], 4: ['bssid', 'b'], 5: ['auth', 'u'] }, true),
            ],
        }),
    ],
};

// @p o: { blocking, passive, groupChannels, periodMs }
export function scanStart(o) {
    const w = new PbfWriter();
    w.writeMessage(
        10,
        (_, pw) => {
            varint(pw, 1, o.blocking ? 1 : 0);
            varint(pw, 2, o.passive ? 1 : 0);
            varint(pw, 3, o.groupChannels);
            varint(pw, 4, o.periodMs);
        },
        null,
    );
    return finish(w);
}
export function scanStatus() {
    const w = new PbfWriter();
    varint(w, 1, SCAN.STATUS);
    return finish(w);
}
export function scanResult(startIndex, count) {
    const w = new PbfWriter();
    varint(w, 1, SCAN.RESULT);
    w.writeMessage(
        14,
        (_, pw) => {
            varint(pw, 1, startIndex);
            varint(pw, 2, count);
        },
        null,
    );
    return finish(w);
}

// --- prov-ctrl -----------------------------------------------------------------------

export const CTRL_PAYLOAD = { 1: ['msg', 'u'], 2: ['status', 'u'] };

export function ctrl(msgType) {
    const w = new PbfWriter();
    varint(w, 1, msgType);
    return finish(w);
}

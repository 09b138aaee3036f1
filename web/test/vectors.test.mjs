// The page's protocol code against the known-answer vectors (tests/vectors/data): every
// request byte must equal the reference client's, every reply must decode to the values
// the vectors describe. Run with both crypto providers: WebCrypto (Node's) and the
// bundled JavaScript libraries the page uses where the browser has no WebCrypto.
//   node --test test/vectors.test.mjs            (all)
//   WIFIPROV_VECTOR=sec1 node --test ...         (one scheme: sec0, sec1, sec2, sec2p0)
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

import { Client, parseVersion } from '../src/client.js';
import { jsCrypto, webCrypto } from '../src/crypto.js';
import { ProvError, utf8 } from '../src/security.js';
import * as pb from '../src/proto.js';

const here = path.dirname(fileURLToPath(import.meta.url));
const dataDir = process.env.WIFIPROV_VECTORS || path.join(here, '..', '..', 'tests', 'vectors', 'data');
const only = process.env.WIFIPROV_VECTOR;

const hex = (s) => Uint8Array.from(s.match(/../g) || [], (x) => parseInt(x, 16));
const toHex = (b) => Buffer.from(b).toString('hex');
const load = (name) => JSON.parse(readFileSync(path.join(dataDir, name + '.json'), 'utf8'));

// A device that is the vector's transcript: each request must be the recorded one.
// A differing request gets what the real device does: the connection closed.
function transcript(messages) {
    let i = 0;
    const post = async (endpoint, body) => {
        const m = messages[i++];
        assert.ok(m, `request ${i} on ${endpoint} is beyond the transcript`);
        assert.equal(endpoint, m.endpoint, `step ${m.step}: endpoint`);
        if (toHex(body) !== m.request_wire) {
            post.mismatch = { step: m.step, got: toHex(body), want: m.request_wire };
            throw new ProvError('transport', 'closed');
        }
        return hex(m.response_wire);
    };
    post.done = () => i === messages.length;
    return post;
}

const fixed = (bytes) => (n) => {
    assert.equal(n, bytes.length);
    return bytes.slice();
};

const providers = [
    ['webcrypto', () => webCrypto(globalThis.crypto.subtle)],
    ['js', async () => jsCrypto()],
];

// The sequence every vector file records after the handshake (see vectors/README.md).
async function provisioningRun(c, post) {
    assert.equal(await c.setConfig({ ssid: utf8('HomeNet'), passphrase: utf8('secret-passphrase') }), pb.STATUS.SUCCESS);
    assert.equal(await c.applyConfig(), pb.STATUS.SUCCESS);
    const st = await c.getStatus();
    assert.equal(st.state, pb.STA.CONNECTED);
    assert.equal(st.connected.ip4, '192.168.1.42');
    assert.equal(new TextDecoder().decode(st.connected.ssid), 'HomeNet');
    assert.equal(toHex(st.connected.bssid), 'a0b1c2d3e4f5');
    assert.equal(st.connected.channel, 6);
    assert.equal(st.connected.auth, 3);
    assert.equal(await c.scanStart({ blocking: true, groupChannels: 5, periodMs: 120 }), pb.STATUS.SUCCESS);
    assert.deepEqual(await c.scanStatus(), { finished: true, count: 5 });
    const list = await c.scanResult(0, 5);
    assert.deepEqual(
        list.map((e) => [new TextDecoder().decode(e.ssid), e.channel, e.rssi, toHex(e.bssid), e.auth]),
        [
            ['HomeNet', 6, -42, 'a0b1c2d3e4f5', 3],
            ['CoffeeShop-Guest', 1, -67, '02aabbccdd01', 0],
            ['Office-WPA3', 11, -71, '3c84b6000102', 6],
            ['Neighbour', 6, -80, 'f4f26d112233', 4],
            ['OldRouter', 3, -88, '001122334455', 1],
        ],
    );
    assert.equal(toHex(await c.request('custom-data', utf8('my-custom-data'))), '5355434345535300');
    assert.equal(await c.ctrl(pb.CTRL.REPROV), pb.STATUS.SUCCESS);
    assert.equal(post.mismatch, undefined);
    assert.ok(post.done(), 'every message of the transcript was exchanged');
}

async function run(vec, messages, provider, secVer, opts, rngBytes) {
    const post = transcript(messages);
    const c = new Client(post, await provider(), fixed(rngBytes));
    const info = await c.version(new TextDecoder().decode(hex(messages[0].request_wire)));
    assert.equal(info.secVer, secVer);
    await c.connect(info.secVer, opts);
    await provisioningRun(c, post);
}

for (const [pname, provider] of providers) {
    if (!only || only === 'sec0')
        test(`security 0 vectors (${pname})`, async () => {
            const v = load('sec0');
            await run(v, v.messages, provider, 0, {}, new Uint8Array(0));
        });
    if (!only || only === 'sec1')
        test(`security 1 vectors (${pname})`, async () => {
            const v = load('sec1');
            await run(v, v.messages, provider, 1, { pop: v.inputs.pop }, hex(v.inputs.client_privkey));
        });
    if (!only || only === 'sec2')
        test(`security 2 patch 1 vectors (${pname})`, async () => {
            const v = load('sec2');
            const { username, password } = v.inputs;
            await run(v, v.messages, provider, 2, { username, password }, hex(v.inputs.client_a));
        });
    if (!only || only === 'sec2p0')
        test(`security 2 patch 0 vectors (${pname})`, async () => {
            const v = load('sec2');
            const msgs = v.variant_sec_patch_ver_0.messages;
            assert.equal(parseVersion(hex(msgs[0].response_wire)).patch, 0);
            const { username, password } = v.inputs;
            await run(v, msgs, provider, 2, { username, password }, hex(v.inputs.client_a));
        });
}

// Failures the page must tell apart.
if (!only || only === 'errors') {
    test('a wrong PoP is reported as refused credentials', async () => {
        const v = load('sec1');
        const c = new Client(transcript(v.messages), jsCrypto(), fixed(hex(v.inputs.client_privkey)));
        await c.version('no_pop');
        await assert.rejects(c.connect(1, { pop: 'abcd1235' }), (e) => e.kind === 'credentials');
    });
    test('a wrong security-2 password is reported as refused credentials', async () => {
        const v = load('sec2');
        const c = new Client(transcript(v.messages), jsCrypto(), fixed(hex(v.inputs.client_a)));
        await c.version();
        await assert.rejects(c.connect(2, { username: 'wifiprov', password: 'wrong' }), (e) => e.kind === 'credentials');
    });
    test('a device that cannot prove the PoP is refused', async () => {
        const v = load('sec1');
        const msgs = structuredClone(v.messages);
        msgs[2].response_wire = msgs[2].response_wire.slice(0, -2) + '00';
        const c = new Client(transcript(msgs), jsCrypto(), fixed(hex(v.inputs.client_privkey)));
        await c.version('no_pop');
        await assert.rejects(c.connect(1, { pop: 'abcd1234' }), (e) => e.kind === 'device');
    });
    test('a device that cannot prove the security-2 password is refused', async () => {
        const v = load('sec2');
        const msgs = structuredClone(v.messages);
        msgs[2].response_wire = msgs[2].response_wire.replace('1240', '1240ff').replace(/..(1a0c)/, '$1');
        const c = new Client(transcript(msgs), jsCrypto(), fixed(hex(v.inputs.client_a)));
        await c.version();
        await assert.rejects(c.connect(2, { username: 'wifiprov', password: 'abcd1234' }), (e) => e.kind === 'device');
    });
    test('a tampered security-2 reply fails authentication', async () => {
        const v = load('sec2');
        const msgs = structuredClone(v.messages);
        const w = msgs[3].response_wire;
        msgs[3].response_wire = w.slice(0, 2) + (w[2] === '0' ? '1' : '0') + w.slice(3);
        const c = new Client(transcript(msgs), jsCrypto(), fixed(hex(v.inputs.client_a)));
        await c.version();
        await c.connect(2, { username: 'wifiprov', password: 'abcd1234' });
        await assert.rejects(c.setConfig({ ssid: utf8('HomeNet'), passphrase: utf8('secret-passphrase') }), (e) =>
            e.kind === 'protocol');
    });
    test('malformed or foreign handshake replies are protocol errors', async () => {
        const v = load('sec1');
        const resp0 = v.messages[1].response_wire;
        const bad = [
            '', // empty
            'ff', // not protobuf
            resp0.slice(0, 40), // truncated
            resp0.replace(/^1001/, '1002'), // another scheme's sec_ver
            '10015a0408012a00', // Response0 without its payload
            resp0.replace('1220', '121f').slice(0, -2), // a 31-byte device key
        ];
        for (const wire of bad) {
            const device = async (ep) => (ep === 'proto-ver' ? hex(v.messages[0].response_wire) : hex(wire));
            const c = new Client(device, jsCrypto(), fixed(hex(v.inputs.client_privkey)));
            await c.version('no_pop');
            await assert.rejects(c.connect(1, { pop: 'abcd1234' }), (e) => e instanceof ProvError && e.kind === 'protocol', wire);
        }
    });
    test('malformed encrypted replies are protocol errors', async () => {
        for (const wire of ['ff', '08036a', '0801', '080362']) {
            const c = new Client(async () => hex(wire), jsCrypto(), null);
            c.session = { encrypt: async (b) => b, decrypt: async (b) => b };
            await assert.rejects(c.setConfig({ ssid: utf8('x'), passphrase: utf8('') }), (e) => e.kind === 'protocol', wire);
        }
    });
    // The GetStatus variants of PROTOCOL.md Appendix A.1 (plaintext, security 0).
    test('every GetStatus variant decodes', async () => {
        const replies = {
            '08015a021001': { status: 0, state: 1 },
            '08015a06100162020803': { status: 0, state: 1, attemptsRemaining: 3 },
            '08015a0410035000': { status: 0, state: 3, failReason: 0 },
            '08015a0410035001': { status: 0, state: 3, failReason: 1 },
        };
        for (const [wire, want] of Object.entries(replies)) {
            const c = new Client(async () => hex(wire), jsCrypto(), null);
            c.session = { encrypt: async (b) => b, decrypt: async (b) => b };
            assert.deepEqual(await c.getStatus(), want, wire);
        }
    });
    test('proto-ver: JSON with and without sec_patch_ver, and a plain string', () => {
        assert.deepEqual(
            parseVersion(utf8('{\n\t"prov":\t{\n\t\t"ver":\t"v1.1",\n\t\t"sec_ver":\t2,\n\t\t"sec_patch_ver":\t1,\n\t\t"cap":\t["wifi_scan"]\n\t}\n}')),
            {
                raw: '{\n\t"prov":\t{\n\t\t"ver":\t"v1.1",\n\t\t"sec_ver":\t2,\n\t\t"sec_patch_ver":\t1,\n\t\t"cap":\t["wifi_scan"]\n\t}\n}',
                ver: 'v1.1',
                secVer: 2,
                patch: 1,
                caps: ['wifi_scan'],
            },
        );
        assert.equal(parseVersion(utf8('{"prov":{"ver":"v1.1","sec_ver":1,"cap":["no_pop"]}}')).patch, 0);
        assert.equal(parseVersion(utf8('v1.1')).secVer, null);
    });
}

// Client side of the three security schemes (PROTOCOL.md §4, §5, §6). A session object
// builds the handshake requests, checks the device's answers and then encrypts every
// request and decrypts every response, strictly in order.
//
//   const s = newSession(secVer, crypto, rng, { pop, username, password, patch });
//   let req = await s.start();           // prov-session request 1
//   req = await s.step(resp);            // the next request, or null when established
//   const wire = await s.encrypt(plain); const plain = await s.decrypt(wire);
import * as pb from './proto.js';

export class ProvError extends Error {
    // kind: 'transport' (no answer), 'credentials' (the device refused our proof),
    // 'device' (the device failed to prove itself), 'protocol' (a reply we cannot use)
    constructor(kind, message) {
        super(message);
        this.kind = kind;
    }
}

const te = new TextEncoder();
export const utf8 = (s) => te.encode(s);

export function concat(...parts) {
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let o = 0;
    for (const p of parts) {
        out.set(p, o);
        o += p.length;
    }
    return out;
}

function equal(a, b) {
    if (a.length !== b.length) return false;
    let d = 0;
    for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
    return d === 0;
}

function parseSession(buf, secVer) {
    let m;
    try {
        m = pb.decode(buf, pb.SESSION_DATA);
    } catch {
        throw new ProvError('protocol', 'the device sent a handshake reply that cannot be read');
    }
    const p = m['sec' + secVer];
    if ((m.secVer || 0) !== secVer || !p)
        throw new ProvError('protocol', `the device answered the handshake with another security scheme`);
    return p;
}

// --- security 0 ------------------------------------------------------------------------

class Sec0 {
    async start() {
        return pb.sec0Cmd();
    }
    async step(resp) {
        const p = parseSession(resp, 0);
        if (p.msg !== pb.SESSION.RESP0 || !p.sr || (p.sr.status || 0) !== 0)
            throw new ProvError('protocol', 'the device refused the session');
        return null;
    }
    async encrypt(b) {
        return b;
    }
    async decrypt(b) {
        return b;
    }
}

// --- security 1 ------------------------------------------------------------------------

// One AES-CTR keystream for the whole session, both directions, byte-exact (§5.1, P2).
class Keystream {
    constructor(crypto, key, counterBlock) {
        this.crypto = crypto;
        this.key = key;
        this.iv = counterBlock;
        this.offset = 0;
    }
    // XORs @p data with the next data.length keystream bytes (reserved at the call).
    async xor(data) {
        const start = this.offset;
        this.offset += data.length;
        const skip = start % 16;
        const counter = this.iv.slice();
        let add = Math.floor(start / 16);
        for (let i = 15; i >= 0 && add > 0; i--) {
            const v = counter[i] + (add % 256);
            counter[i] = v & 0xff;
            add = Math.floor(add / 256) + (v >> 8);
        }
        const padded = new Uint8Array(skip + data.length);
        padded.set(data, skip);
        return (await this.crypto.aesCtr(this.key, counter, padded)).slice(skip);
    }
}

class Sec1 {
    constructor(crypto, rng, pop) {
        this.crypto = crypto;
        this.rng = rng;
        this.pop = utf8(pop || '');
    }
    async start() {
        this.priv = this.rng(32);
        this.pub = await this.crypto.x25519Public(this.priv);
        this.state = 0;
        return pb.sec1Cmd0(this.pub);
    }
    async step(resp) {
        const p = parseSession(resp, 1);
        if (this.state === 0) {
            const r = p.sr0;
            if (p.msg !== pb.SESSION.RESP0 || !r || !r.devicePubkey || r.devicePubkey.length !== 32 || !r.deviceRandom ||
                r.deviceRandom.length !== 16)
                throw new ProvError('protocol', 'the device sent a malformed first handshake reply');
            let key;
            try {
                key = await this.crypto.x25519Shared(this.priv, r.devicePubkey);
            } catch {
                throw new ProvError('device', 'the device sent an unusable public key');
            }
            if (this.pop.length) {
                const h = await this.crypto.sha256(this.pop);
                key = key.map((b, i) => b ^ h[i]);
            }
            this.priv.fill(0);
            this.ks = new Keystream(this.crypto, key, r.deviceRandom);
            this.state = 1;
            return pb.sec1Cmd1(await this.ks.xor(r.devicePubkey));
        }
        const r = p.sr1;
        if (p.msg !== pb.SESSION.RESP1 || !r || !r.deviceVerifyData || r.deviceVerifyData.length !== 32)
            throw new ProvError('protocol', 'the device sent a malformed second handshake reply');
        if (!equal(await this.ks.xor(r.deviceVerifyData), this.pub))
            throw new ProvError('device', 'the device could not prove it knows the proof of possession');
        this.state = 2;
        return null;
    }
    encrypt(b) {
        return this.ks.xor(b);
    }
    decrypt(b) {
        return this.ks.xor(b);
    }
}

// --- security 2: SRP-6a, RFC 5054 3072-bit group, SHA-512 (§6.2) ----------------------

export const SRP_N = BigInt(
    '0xffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a' +
        '431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f2411' +
        '7c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed5' +
        '29077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9' +
        'de2bcbf6955817183995497cea956ae515d2261898fa051015728e5a8aaac42dad33170d04507a33a85521abdf1cba64ecfb850458db' +
        'ef0a8aea71575d060c7db3970f85a6e1e4c7abf5ae8cdb0933d71e8c94e04a25619dcee3d2261ad2ee6bf12ffa06d98a0864d8760273' +
        '3ec86a64521f2b18177b200cbbe117577a615d6c770988c0bad946e208e24fa074e5ab3143db5bfce0fd108e4b82d120a93ad2caffff' +
        'ffffffffffff',
);
export const SRP_G = 5n;
const NLEN = 384;

export function bytesToBig(b) {
    let h = '0x0';
    for (const x of b) h += x.toString(16).padStart(2, '0');
    return BigInt(h);
}
// Big-endian bytes of @p n: left-padded to @p len, or minimal (no leading zero) when len is 0.
export function bigToBytes(n, len = 0) {
    let h = n.toString(16);
    if (h.length % 2) h = '0' + h;
    if (n === 0n && !len) return new Uint8Array(0);
    const min = Uint8Array.from(h.match(/../g), (x) => parseInt(x, 16));
    if (!len) return min;
    const out = new Uint8Array(len);
    out.set(min, len - min.length);
    return out;
}
export function modPow(b, e, m) {
    let r = 1n;
    b %= m;
    while (e > 0n) {
        if (e & 1n) r = (r * b) % m;
        b = (b * b) % m;
        e >>= 1n;
    }
    return r;
}

class Sec2 {
    constructor(crypto, rng, username, password, patch) {
        this.crypto = crypto;
        this.rng = rng;
        this.user = utf8(username || '');
        this.pass = utf8(password || '');
        this.patch = patch || 0;
    }
    async start() {
        if (this.user.length < 1 || this.user.length > 65535) throw new ProvError('credentials', 'a user name is needed');
        const a = this.rng(32);
        a[0] |= 0x80; // a in [2^255, 2^256), as the reference client draws it
        this.a = bytesToBig(a);
        a.fill(0);
        this.A = bigToBytes(modPow(SRP_G, this.a, SRP_N), NLEN); // exactly 384 bytes (P6)
        this.state = 0;
        return pb.sec2Cmd0(this.user, this.A);
    }
    async step(resp) {
        const H = (...parts) => this.crypto.sha512(concat(...parts));
        const p = parseSession(resp, 2);
        if (this.state === 0) {
            const r = p.sr0;
            if (p.msg !== pb.SESSION.RESP0 || !r || !r.devicePubkey || !r.deviceSalt)
                throw new ProvError('protocol', 'the device sent a malformed first handshake reply');
            const Bb = r.devicePubkey; // exact bytes as sent (minimal length) for M1 (P5)
            const B = bytesToBig(Bb);
            if (B % SRP_N === 0n || Bb.length > NLEN) throw new ProvError('device', 'the device sent an unusable public key');
            const s = r.deviceSalt;
            const padG = bigToBytes(SRP_G, NLEN);
            const Nb = bigToBytes(SRP_N, NLEN);
            const k = bytesToBig(await H(Nb, padG));
            const u = bytesToBig(await H(this.A, bigToBytes(B, NLEN)));
            if (u === 0n) throw new ProvError('device', 'the device sent an unusable public key');
            const inner = await H(this.user, utf8(':'), this.pass);
            const x = bytesToBig(await H(s, inner)); // full inner digest, raw salt (P7)
            const v = modPow(SRP_G, x, SRP_N);
            const base = (((B - ((k * v) % SRP_N)) % SRP_N) + SRP_N) % SRP_N;
            const S = modPow(base, this.a + u * x, SRP_N);
            const K = await H(bigToBytes(S)); // S with leading zero bytes stripped (P5)
            const hN = await H(Nb);
            const hG = await H(padG);
            const M1 = await H(hN.map((b, i) => b ^ hG[i]), await H(this.user), s, this.A, Bb, K);
            this.M2 = await H(this.A, M1, K);
            this.key = K.slice(0, 32);
            this.a = 0n;
            this.state = 1;
            return pb.sec2Cmd1(M1);
        }
        const r = p.sr1;
        if (p.msg !== pb.SESSION.RESP1 || !r || !r.deviceProof || !r.deviceNonce)
            throw new ProvError('protocol', 'the device sent a malformed second handshake reply');
        if (!equal(r.deviceProof, this.M2))
            throw new ProvError('device', 'the device could not prove it knows the password');
        const n = r.deviceNonce;
        if (this.patch >= 1) {
            // sec_patch_ver 1: 8-byte session id || 32-bit big-endian counter, shared by both directions (P9)
            if (n.length !== 12) throw new ProvError('protocol', 'the device sent a nonce of the wrong length');
            this.prefix = n.slice(0, 8);
            this.counter = ((n[8] << 24) | (n[9] << 16) | (n[10] << 8) | n[11]) >>> 0;
        } else {
            this.nonce = n.slice(); // sec_patch_ver 0: one IV for every message
        }
        this.state = 2;
        return null;
    }
    nextIv() {
        if (this.patch < 1) return this.nonce;
        if (this.counter === 0) throw new ProvError('protocol', 'the session is worn out: start again');
        const iv = new Uint8Array(12);
        iv.set(this.prefix);
        new DataView(iv.buffer).setUint32(8, this.counter);
        this.counter = (this.counter + 1) >>> 0;
        return iv;
    }
    encrypt(b) {
        return this.crypto.gcmSeal(this.key, this.nextIv(), b);
    }
    async decrypt(b) {
        const iv = this.nextIv();
        try {
            return await this.crypto.gcmOpen(this.key, iv, b);
        } catch {
            throw new ProvError('protocol', 'a reply from the device failed authentication');
        }
    }
}

// @p opts: { pop } for security 1; { username, password, patch } for security 2.
export function newSession(secVer, crypto, rng, opts = {}) {
    switch (secVer) {
        case 0:
            return new Sec0();
        case 1:
            return new Sec1(crypto, rng, opts.pop);
        case 2:
            return new Sec2(crypto, rng, opts.username, opts.password, opts.patch);
        default:
            throw new ProvError('protocol', `the device uses security scheme ${secVer}, which this page does not know`);
    }
}

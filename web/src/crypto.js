// The primitives the security schemes need, behind one interface:
//
//   sha256(b), sha512(b)                 -> Uint8Array digest
//   x25519Public(priv), x25519Shared(priv, pub)
//   aesCtr(key, counterBlock, data)      -> data XOR AES-256-CTR keystream (128-bit counter)
//   gcmSeal(key, iv, data)               -> ciphertext || 16-byte tag (no AAD)
//   gcmOpen(key, iv, data)               -> plaintext, throws on a bad tag
//
// WebCrypto is used where the page has it. Browsers give it only to secure contexts
// (HTTPS or localhost): a page served over plain HTTP from the device's access point
// has no crypto.subtle, and then the bundled noble libraries do all of it. Where
// WebCrypto lacks X25519, noble's X25519 is used beside it.
import { x25519 } from '@noble/curves/ed25519.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { ctr, gcm } from '@noble/ciphers/aes.js';

const nobleX25519 = {
    x25519Public: async (priv) => x25519.getPublicKey(priv),
    x25519Shared: async (priv, pub) => x25519.getSharedSecret(priv, pub),
};

export function jsCrypto() {
    return {
        name: 'js',
        sha256: async (b) => sha256(b),
        sha512: async (b) => sha512(b),
        ...nobleX25519,
        aesCtr: async (key, counter, data) => ctr(key, counter).encrypt(data),
        gcmSeal: async (key, iv, data) => gcm(key, iv).encrypt(data),
        gcmOpen: async (key, iv, data) => gcm(key, iv).decrypt(data),
    };
}

// PKCS#8 wrapping of a raw X25519 private key (RFC 8410).
const PKCS8_X25519 = Uint8Array.from([
    0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x6e, 0x04, 0x22, 0x04, 0x20,
]);

function b64urlDecode(s) {
    const b = atob(s.replace(/-/g, '+').replace(/_/g, '/'));
    return Uint8Array.from(b, (c) => c.charCodeAt(0));
}

function webX25519(subtle) {
    const importPriv = (priv) => {
        const der = new Uint8Array(PKCS8_X25519.length + 32);
        der.set(PKCS8_X25519);
        der.set(priv, PKCS8_X25519.length);
        return subtle.importKey('pkcs8', der, { name: 'X25519' }, true, ['deriveBits']);
    };
    return {
        x25519Public: async (priv) => b64urlDecode((await subtle.exportKey('jwk', await importPriv(priv))).x),
        x25519Shared: async (priv, pub) => {
            const pk = await subtle.importKey('raw', pub, { name: 'X25519' }, false, []);
            return new Uint8Array(await subtle.deriveBits({ name: 'X25519', public: pk }, await importPriv(priv), 256));
        },
    };
}

export async function webCrypto(subtle) {
    const aes = (name, key) => subtle.importKey('raw', key, { name }, false, ['encrypt', 'decrypt']);
    let x = webX25519(subtle);
    let name = 'webcrypto';
    try {
        await x.x25519Public(new Uint8Array(32).fill(1));
    } catch {
        x = nobleX25519;
        name = 'webcrypto+js-x25519';
    }
    return {
        name,
        sha256: async (b) => new Uint8Array(await subtle.digest('SHA-256', b)),
        sha512: async (b) => new Uint8Array(await subtle.digest('SHA-512', b)),
        ...x,
        aesCtr: async (key, counter, data) =>
            new Uint8Array(await subtle.encrypt({ name: 'AES-CTR', counter, length: 128 }, await aes('AES-CTR', key), data)),
        gcmSeal: async (key, iv, data) =>
            new Uint8Array(await subtle.encrypt({ name: 'AES-GCM', iv, tagLength: 128 }, await aes('AES-GCM', key), data)),
        gcmOpen: async (key, iv, data) =>
            new Uint8Array(await subtle.decrypt({ name: 'AES-GCM', iv, tagLength: 128 }, await aes('AES-GCM', key), data)),
    };
}

// The page's choice: WebCrypto when this context has it, else the bundled code.
export async function pickCrypto() {
    const subtle = globalThis.crypto && globalThis.crypto.subtle;
    return subtle ? webCrypto(subtle) : jsCrypto();
}

// Cryptographically secure random bytes (crypto.getRandomValues exists in every context).
export function randomBytes(n) {
    return globalThis.crypto.getRandomValues(new Uint8Array(n));
}

// The provisioning page in a real browser (Debian's Chromium, headless, driven by
// playwright-core) against the real wifiprovd on loopback with simulated Wi-Fi.
//
//   WIFIPROVD=build/daemon/wifiprovd node --test test/browser.test.mjs
//   WIFIPROV_SCREENSHOTS=../docs/screenshots ...   also writes the screenshots of the main steps
//
// Two kinds of origin: http://127.0.0.1:PORT/ is a secure context (the page uses
// WebCrypto there), http://wifiprov.test:PORT/ (mapped to 127.0.0.1 by a Chromium
// flag) is not, like the device's own address on its access point (the page then
// uses its bundled JavaScript crypto).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const WIFIPROVD = process.env.WIFIPROVD;
const CHROMIUM = process.env.WIFIPROV_CHROMIUM || '/usr/bin/chromium';
const PAGE_DIR = process.env.WIFIPROV_WEB_UI_DIR || path.join(here, '..', 'dist');
const SHOTS = process.env.WIFIPROV_SCREENSHOTS;
const INSECURE_HOST = 'wifiprov.test';
const STEP_MS = 15000;

if (!WIFIPROVD) throw new Error('set WIFIPROVD to the wifiprovd binary');

const NETWORKS = [
    { ssid: 'HomeNetwork', passphrase: 'correct-horse', channel: 6, rssi: -42, connect_ms: 300, ip: '192.168.1.42' },
    { ssid: 'CoffeeShop', channel: 1, rssi: -67, connect_ms: 300, ip: '10.0.0.23' },
    { ssid: 'Office-WPA3', auth: 'wpa3_psk', passphrase: 'battery-staple', channel: 36, rssi: -58, connect_ms: 300 },
    { ssid: 'Neighbour', auth: 'wpa_wpa2_psk', passphrase: 'not-your-network', channel: 11, rssi: -81 },
    { ssid: 'Attic', passphrase: 'up-the-ladder', hidden: true, rssi: -60, connect_ms: 300, ip: '192.168.77.5' },
];
const SEC1 = ['--security', '1', '--pop', 'abcd1234'];
const SEC2 = ['--security', '2', '--sec2-username', 'wifiprov', '--sec2-password', 'abcd1234'];

// The real daemon on a free loopback port; resolves once it serves.
async function startDaemon(args) {
    const dir = mkdtempSync(path.join(tmpdir(), 'wifiprov-web-'));
    writeFileSync(path.join(dir, 'networks.json'), JSON.stringify(NETWORKS));
    // An empty configuration file of its own: the machine's /etc/wifiprov/wifiprovd.conf is not read.
    writeFileSync(path.join(dir, 'wifiprovd.conf'), '');
    const argv = [
        '--config', path.join(dir, 'wifiprovd.conf'), '--transport', 'http', '--listen', '127.0.0.1:0', '--wifi', 'sim', '--sim-config', path.join(dir, 'networks.json'),
        '--sim-scan-ms', '200', '--scan-interval', '0', '--state-dir', path.join(dir, 'state'), '--no-qr',
        '--web-ui-dir', PAGE_DIR, '-v', ...args,
    ];
    const p = spawn(WIFIPROVD, argv, { stdio: ['ignore', 'ignore', 'pipe'] });
    const d = { proc: p, log: '', dir, exited: null };
    p.stderr.setEncoding('utf8');
    p.stderr.on('data', (s) => (d.log += s));
    p.on('exit', (code, sig) => (d.exited = { code, sig }));
    const t0 = Date.now();
    while (!/Provisioning started/.test(d.log)) {
        if (d.exited) throw new Error(`wifiprovd exited at start:\n${d.log}`);
        if (Date.now() - t0 > 10000) throw new Error(`wifiprovd did not start:\n${d.log}`);
        await new Promise((r) => setTimeout(r, 20));
    }
    d.port = Number(d.log.match(/HTTP transport listening on 127\.0\.0\.1:(\d+)/)[1]);
    d.stop = async () => {
        if (!d.exited) {
            p.kill('SIGTERM');
            for (let i = 0; i < 100 && !d.exited; i++) await new Promise((r) => setTimeout(r, 20));
            if (!d.exited) p.kill('SIGKILL');
        }
        rmSync(dir, { recursive: true, force: true });
    };
    return d;
}

const PHONE = { viewport: { width: 360, height: 740 }, isMobile: true, hasTouch: true, deviceScaleFactor: 1 };
const DESKTOP = { viewport: { width: 1024, height: 720 }, deviceScaleFactor: 1 };

// A fresh browser profile for each case; every request the page makes is recorded.
async function withPage(device, fn) {
    const profile = mkdtempSync(path.join(tmpdir(), 'wifiprov-chromium-'));
    const ctx = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: [
            '--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync',
            `--host-resolver-rules=MAP ${INSECURE_HOST} 127.0.0.1`,
        ],
        ...device,
    });
    const page = ctx.pages()[0] || (await ctx.newPage());
    const seen = { requests: [], errors: [] };
    page.on('request', (r) => seen.requests.push(r.url()));
    page.on('pageerror', (e) => seen.errors.push(String(e)));
    page.on('console', (m) => {
        if (m.type() === 'error') seen.errors.push(m.text());
    });
    page.setDefaultTimeout(STEP_MS);
    try {
        await fn(page, seen);
    } finally {
        await ctx.close();
        rmSync(profile, { recursive: true, force: true });
    }
}

// The page's content (the whole window with @p window).
async function shot(page, name, window = false) {
    if (!SHOTS) return;
    mkdirSync(SHOTS, { recursive: true });
    const file = path.join(SHOTS, name);
    await (window ? page.screenshot({ path: file }) : page.locator('main').screenshot({ path: file }));
}

const visible = (page, sel) => page.locator(sel).first().waitFor({ state: 'visible' });

async function networks(page) {
    await visible(page, '#s-nets .net');
    return page.locator('#s-nets .net .name').allTextContents();
}

async function choose(page, ssid) {
    await page.locator('#s-nets .net', { hasText: ssid }).click();
    await visible(page, '#s-pass');
}

async function connected(page, ssid, ip) {
    await visible(page, '#s-done');
    assert.match(await page.locator('#done-text').textContent(), new RegExp(`${ssid}.*${ip.replace(/\./g, '\\.')}`));
}

// The page talked only to its own origin, through the protocol's endpoints.
function onlyProtocol(seen, origin) {
    const allowed = new Set(['/', '/proto-ver', '/prov-session', '/prov-scan', '/prov-config', '/prov-ctrl']);
    for (const u of seen.requests) {
        const url = new URL(u);
        assert.equal(url.origin, origin, `request to another origin: ${u}`);
        assert.ok(allowed.has(url.pathname), `unexpected request ${u}`);
    }
    assert.deepEqual(seen.errors.filter((e) => !/ERR_CONNECTION_CLOSED|ERR_EMPTY_RESPONSE|Failed to load resource/.test(e)), []);
}

test('sec1_phone: security 1 on a phone: PoP, scan, passphrase, Connected (WebCrypto)', async () => {
    const d = await startDaemon(SEC1);
    try {
        await withPage(PHONE, async (page, seen) => {
            const origin = `http://127.0.0.1:${d.port}`;
            const resp = await page.goto(origin + '/');
            assert.equal(resp.status(), 200);
            assert.match(resp.headers()['content-security-policy'], /script-src 'sha256-/);
            await visible(page, '#s-cred');
            assert.equal(await page.evaluate(() => document.body.dataset.crypto), 'webcrypto');
            await page.locator('#pop').fill('abcd1234');
            await shot(page, 'page-pop.png');
            await page.locator('#pop').press('Enter');
            const names = await networks(page);
            // Strongest first; the hidden network (empty SSID in the scan) has no row.
            assert.deepEqual(names, ['HomeNetwork', 'Office-WPA3', 'CoffeeShop', 'Neighbour']);
            assert.equal(await page.locator('#s-nets .net', { hasText: 'CoffeeShop' }).locator('svg.lock').count(), 0);
            assert.equal(await page.locator('#s-nets .net', { hasText: 'HomeNetwork' }).locator('svg.lock').count(), 1);
            await shot(page, 'page-networks.png');
            await choose(page, 'HomeNetwork');
            await page.locator('#wpass').fill('correct-horse');
            await shot(page, 'page-passphrase.png');
            await page.locator('#wpass').press('Enter');
            await connected(page, 'HomeNetwork', '192.168.1.42');
            await shot(page, 'page-connected.png');
            // The phone-sized page needs no horizontal scrolling.
            assert.ok((await page.evaluate(() => document.documentElement.scrollWidth)) <= 360);
            onlyProtocol(seen, origin);
        });
        assert.match(d.log, /Provisioning successful/);
    } finally {
        await d.stop();
    }
});

test('sec2_desktop_qr: security 2 on a desktop from a QR link, plain-HTTP origin (bundled crypto)', async () => {
    const d = await startDaemon(SEC2);
    try {
        await withPage(DESKTOP, async (page, seen) => {
            const origin = `http://${INSECURE_HOST}:${d.port}`;
            await page.goto(origin + '/#username=wifiprov&password=abcd1234');
            await networks(page);
            assert.equal(await page.evaluate(() => document.body.dataset.crypto), 'js');
            assert.equal(await page.evaluate(() => window.isSecureContext), false);
            assert.equal(await page.evaluate(() => location.hash), '', 'the secret left the address bar');
            await shot(page, 'page-desktop.png', true);
            await choose(page, 'Office-WPA3');
            await page.locator('#wpass').fill('battery-staple');
            await page.locator('#pass-go').click();
            await connected(page, 'Office-WPA3', '192.168.50.12');
            onlyProtocol(seen, origin);
        });
    } finally {
        await d.stop();
    }
});

test('wrong_pop: a wrong PoP shows a clear error and the right one then works', async () => {
    const d = await startDaemon(SEC1);
    try {
        await withPage(PHONE, async (page) => {
            await page.goto(`http://${INSECURE_HOST}:${d.port}/`);
            await visible(page, '#s-cred');
            await page.locator('#pop').fill('abcd9999');
            await page.locator('#cred-go').click();
            await visible(page, '#error');
            assert.match(await page.locator('#error').textContent(), /did not accept this proof of possession/);
            assert.equal(await page.evaluate(() => document.activeElement.id), 'pop');
            await shot(page, 'page-wrong-pop.png');
            await page.locator('#pop').fill('abcd1234');
            await page.locator('#cred-go').click();
            await networks(page);
            assert.equal(await page.locator('#error').isVisible(), false);
        });
    } finally {
        await d.stop();
    }
});

test('wrong_password: a wrong security-2 password shows a clear error and the right one then works', async () => {
    const d = await startDaemon(SEC2);
    try {
        await withPage(PHONE, async (page) => {
            await page.goto(`http://${INSECURE_HOST}:${d.port}/`);
            await visible(page, '#s-cred');
            assert.equal(await page.locator('#pop-row').isVisible(), false);
            await page.locator('#username').fill('wifiprov');
            await page.locator('#password').fill('not-it');
            await page.locator('#password').press('Enter');
            await visible(page, '#error');
            assert.match(await page.locator('#error').textContent(), /did not accept this user name and password/);
            await page.locator('#password').fill('abcd1234');
            await page.locator('#password').press('Enter');
            await networks(page);
        });
    } finally {
        await d.stop();
    }
});

test('wrong_passphrase: a wrong Wi-Fi passphrase, then the right one, using the keyboard', async () => {
    const d = await startDaemon([...SEC1, '--connect-attempts', '1']);
    try {
        await withPage(PHONE, async (page) => {
            await page.goto(`http://${INSECURE_HOST}:${d.port}/#pop=abcd1234`);
            await networks(page);
            // Keyboard only: the first network row is the strongest (HomeNetwork).
            await page.locator('#s-nets .net').first().focus();
            await page.keyboard.press('Enter');
            await visible(page, '#s-pass');
            assert.equal(await page.evaluate(() => document.activeElement.id), 'wpass');
            await page.keyboard.type('wrong-horse');
            await page.keyboard.press('Enter');
            await visible(page, '#s-fail');
            assert.match(await page.locator('#fail-text').textContent(), /password for HomeNetwork was not accepted/);
            await shot(page, 'page-wrong-passphrase.png');
            await page.locator('#fail-retry').click();
            await visible(page, '#s-pass');
            await page.locator('#wpass').fill('correct-horse');
            await page.keyboard.press('Enter');
            await connected(page, 'HomeNetwork', '192.168.1.42');
        });
    } finally {
        await d.stop();
    }
});

test('hidden_ssid: a hidden network typed by name', async () => {
    const d = await startDaemon(SEC2);
    try {
        await withPage(PHONE, async (page) => {
            await page.goto(`http://${INSECURE_HOST}:${d.port}/#username=wifiprov&password=abcd1234`);
            await networks(page);
            await page.locator('#other').click();
            await visible(page, '#ssid');
            await page.locator('#ssid').fill('Attic');
            await page.locator('#wpass').fill('up-the-ladder');
            await shot(page, 'page-hidden.png');
            await page.locator('#pass-go').click();
            await connected(page, 'Attic', '192.168.77.5');
        });
    } finally {
        await d.stop();
    }
});

test('lost_exchange: a status request lost on the way; the page opens a new session and goes on', async () => {
    const d = await startDaemon(SEC2);
    try {
        await withPage(PHONE, async (page) => {
            let config = 0;
            let sessions = 0;
            page.on('request', (r) => {
                if (new URL(r.url()).pathname === '/prov-session') sessions++;
            });
            // SetConfig and ApplyConfig pass; the first GetStatus never reaches the device.
            await page.route('**/prov-config', (route) => (++config === 3 ? route.abort('connectionreset') : route.continue()));
            await page.goto(`http://${INSECURE_HOST}:${d.port}/#username=wifiprov&password=abcd1234`);
            await networks(page);
            await choose(page, 'HomeNetwork');
            await page.locator('#wpass').fill('correct-horse');
            await page.locator('#pass-go').click();
            await connected(page, 'HomeNetwork', '192.168.1.42');
            assert.ok(config >= 4, `prov-config requests: ${config}`);
            assert.equal(sessions, 4, 'one handshake (2 requests) at the start, one after the lost exchange');
        });
    } finally {
        await d.stop();
    }
});

test('sec0_open_network: security 0 is flagged, an open network needs no password', async () => {
    const d = await startDaemon(['--security', '0']);
    try {
        await withPage(PHONE, async (page) => {
            await page.goto(`http://${INSECURE_HOST}:${d.port}/`);
            await networks(page);
            assert.match(await page.locator('#warn').textContent(), /does not encrypt/);
            await shot(page, 'page-sec0-warning.png');
            await choose(page, 'CoffeeShop');
            assert.equal(await page.locator('#wpass').isVisible(), false);
            assert.equal(await page.locator('#open-note').isVisible(), true);
            await page.locator('#pass-go').click();
            await connected(page, 'CoffeeShop', '10.0.0.23');
        });
    } finally {
        await d.stop();
    }
});

test('sec1_no_pop: a security-1 device without a PoP needs no unlock step', async () => {
    const d = await startDaemon(['--security', '1']);
    try {
        await withPage(PHONE, async (page) => {
            await page.goto(`http://${INSECURE_HOST}:${d.port}/`);
            await networks(page);
            assert.equal(await page.locator('#s-cred').isVisible(), false);
        });
    } finally {
        await d.stop();
    }
});

test('captive_probe: a captive-portal probe leads the browser to the page', async () => {
    const d = await startDaemon(SEC1);
    try {
        await withPage(PHONE, async (page) => {
            // What a phone's portal check does: fetch the probe URL and follow its redirect.
            const resp = await page.goto(`http://127.0.0.1:${d.port}/hotspot-detect.html`);
            assert.equal(new URL(resp.url()).pathname, '/');
            await visible(page, '#s-cred');
        });
    } finally {
        await d.stop();
    }
});

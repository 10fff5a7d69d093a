// Browser test of the Vigil portal's web page: playwright-core driving Debian's Chromium.
//
//   node tests/browser/portal.spec.mjs
//
// Environment:
//   PORTAL_URL       the running portal, e.g. http://127.0.0.1:8080 (required)
//   KUBE_URL         the stand-in Kubernetes API server (tests/integration/kubeapi.py)
//   KUBE_CA_FILE     its CA certificate (PEM file)
//   KUBE_TOKEN       the scoped token (default scoped-reader-token)
//   KUBE_BAD_TOKEN   an over-privileged token (default cluster-admin-token)
//   SCREENSHOT_DIR   where the screenshots go (default tests/artifacts/screenshots)
//   CHROMIUM         the browser (default /usr/bin/chromium)
//   SEED_DATABASE_URL  the portal's database (superuser); when set, findings and API
//                    endpoints are written for the new tenant (as the report and inventory
//                    services would) and the findings filters, the status change and the
//                    API flags are checked on them
//   PSQL             psql binary (default psql)
//   SECRETS_FILE     where to write the secrets the run used and saw (password, API key,
//                    ingest token, webhook secret) as JSON, so the caller can check that no
//                    log holds them
//
// Steps (docs/portal-web.md lists what each checks): Tab order and labels of the sign-up
// form, sign up, log out, duplicate sign-up, wrong password, log in (and CSRF), "Connect a
// cluster" with the manifest, an over-privileged token refused with its rules, the stand-in
// cluster accepted with the ingest token and snippets, the clusters list, an OpenAPI spec
// upload, findings (filters, pages, a status change), the API inventory, an active test,
// notifications, usage, the topology (call graph, third-party hosts, AuthorizationPolicy
// YAML), the report (404, then counts and report.html), every view at phone width. Every
// step saves a screenshot; any failure exits 1 (and saves portal-FAILED-<step>.png).

import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, '..', '..');
const PORTAL = (process.env.PORTAL_URL || '').replace(/\/+$/, '');
const SHOTS = process.env.SCREENSHOT_DIR || path.join(REPO, 'tests', 'artifacts', 'screenshots');
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
const KUBE_URL = process.env.KUBE_URL || '';
const KUBE_TOKEN = process.env.KUBE_TOKEN || 'scoped-reader-token';
const KUBE_BAD_TOKEN = process.env.KUBE_BAD_TOKEN || 'cluster-admin-token';
const SEED_DB = process.env.SEED_DATABASE_URL || '';
const PSQL = process.env.PSQL || 'psql';
const STEP_TIMEOUT = 15000;

const run = Math.random().toString(16).slice(2, 10);
const account = {
    email: `browser+${run}@example.com`,
    password: `correct horse ${run}`,
    organization: `Browser Test ${run}`,
};

const results = [];
const secrets = {
    password: account.password, api_key: '', ingest_token: '', webhook_secret: '',
    identity_a: `Bearer user-a-${run}-secret`, identity_b: `Bearer user-b-${run}-secret`,
};
let page = null;
let shotNo = 0;

function fail(message) {
    throw new Error(message);
}

function check(condition, message) {
    if (!condition) {
        fail(message);
    }
}

async function screenshot(name, opts = {}) {
    shotNo += 1;
    const file = path.join(SHOTS, `portal-${String(shotNo).padStart(2, '0')}-${name}.png`);
    await page.screenshot({ path: file, fullPage: true, ...opts });
    return file;
}

async function step(name, fn) {
    const started = Date.now();
    try {
        await fn();
        const shot = await screenshot(name);
        results.push({ name, ok: true, ms: Date.now() - started, shot });
        console.log(`ok   ${name} (${Date.now() - started} ms) ${path.basename(shot)}`);
    } catch (err) {
        results.push({ name, ok: false, error: err.message });
        console.log(`FAIL ${name}: ${err.message}`);
        try {
            await page.screenshot({ path: path.join(SHOTS, `portal-FAILED-${name}.png`),
                fullPage: true });
        } catch (shotErr) {
            console.log(`     (no screenshot: ${shotErr.message})`);
        }
        throw err;
    }
}

const view = (name) => page.locator(`#view-${name}`);

async function visibleAlert() {
    const alert = page.locator('#alert');
    await alert.waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
    check(await alert.getAttribute('role') === 'alert', '#alert has no role=alert');
    return alertText();
}

// The message and its listed details, without the Dismiss button.
async function alertText() {
    const items = await page.locator('#alert-list li').allInnerTexts();
    return [await page.locator('#alert-text').innerText(), ...items].join(' ').trim();
}

async function activeId() {
    return page.evaluate(() => {
        const a = document.activeElement;
        return a ? a.id || `${a.tagName.toLowerCase()}:${(a.textContent || '').trim()}` : '';
    });
}

// ---------------------------------------------------------------------------- the steps

async function checkSignupKeyboard() {
    await page.goto(`${PORTAL}/#/signup`);
    await page.getByRole('heading', { name: 'Create your Vigil account' }).waitFor();
    // From the top of the document, Tab must reach email, password, organisation, submit.
    await page.evaluate(() => {
        document.activeElement?.blur();
        window.scrollTo(0, 0);
    });
    let id = '';
    for (let i = 0; i < 12 && id !== 'signup-email'; i++) {
        await page.keyboard.press('Tab');
        id = await activeId();
    }
    check(id === 'signup-email', `Tab never reached the email field (last focus: ${id})`);
    const order = ['signup-password', 'signup-organization', 'button:Create account'];
    for (const want of order) {
        await page.keyboard.press('Tab');
        const got = await activeId();
        check(got === want, `after Tab expected ${want}, focus is on ${got}`);
    }
    // The focus ring must be visible (an outline on :focus-visible).
    const outline = await page.evaluate(() => getComputedStyle(document.activeElement)
        .outlineStyle);
    check(outline && outline !== 'none', `no visible focus outline (outline-style ${outline})`);
    // Labels are tied to the inputs: getByLabel finds each field.
    for (const label of ['Work email', 'Password', 'Organisation']) {
        check(await view('signup').getByLabel(label, { exact: true }).count() === 1,
            `no field labelled "${label}"`);
    }
}

async function signUpByKeyboard() {
    // Type with the keyboard only, as a keyboard user would, and submit with Enter.
    await view('signup').getByLabel('Work email', { exact: true }).focus();
    await page.keyboard.type(account.email);
    await page.keyboard.press('Tab');
    await page.keyboard.type('too short');
    await page.keyboard.press('Tab');
    await page.keyboard.type(account.organization);
    await page.keyboard.press('Enter');
    const tooShort = await visibleAlert();
    check(/at least 12 characters/i.test(tooShort), `short password not explained: ${tooShort}`);
    check(await activeId() === 'signup-password', 'focus did not move to the invalid password');
    await view('signup').getByLabel('Password', { exact: true }).fill(account.password);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Your account is ready' })
        .waitFor({ timeout: STEP_TIMEOUT });
    const key = await page.getByLabel('API key').inputValue();
    check(/^vgk_\S{16,}$/.test(key), `API key not shown (got "${key}")`);
    secrets.api_key = key;
    const who = await page.locator('#account-name').innerText();
    check(who.includes(account.email), `the header does not show the account (${who})`);
}

async function logOut() {
    await page.getByRole('button', { name: 'Log out' }).click();
    await page.getByRole('heading', { name: 'Log in to Vigil' }).waitFor({ timeout: STEP_TIMEOUT });
    const text = await visibleAlert();
    check(/logged out/i.test(text), `no logout confirmation (${text})`);
    check(await page.locator('#mainnav').isHidden(), 'the navigation is still shown');
    const session = await page.evaluate(async () => (await fetch('/api/v1/session')).status);
    check(session === 401, `the session still answers ${session} after logout`);
}

async function duplicateSignup() {
    await page.getByRole('link', { name: 'Create an account' }).click();
    const signup = view('signup');
    await signup.getByLabel('Work email').fill(account.email);
    await signup.getByLabel('Password', { exact: true }).fill(account.password);
    await signup.getByLabel('Organisation').fill(account.organization);
    await signup.getByRole('button', { name: 'Create account' }).click();
    const text = await visibleAlert();
    check(/already/i.test(text), `a second sign-up with the same email is not explained: ${text}`);
}

async function wrongPassword() {
    await view('signup').getByRole('link', { name: 'Log in', exact: true }).click();
    await page.getByRole('heading', { name: 'Log in to Vigil' }).waitFor();
    await view('login').getByLabel('Email').fill(account.email);
    await view('login').getByLabel('Password').fill('not the right password');
    await view('login').getByRole('button', { name: 'Log in' }).click();
    const text = await visibleAlert();
    check(text.length > 10 && !/^Request failed/.test(text),
        `the error is not the API's message: "${text}"`);
    check(/password|credential|invalid/i.test(text), `unclear wrong-password message: ${text}`);
    check(await view('login').getByLabel('Password').inputValue() === '',
        'the wrong password was kept in the field');
}

async function logIn() {
    await view('login').getByLabel('Email').fill(account.email);
    await view('login').getByLabel('Password').fill(account.password);
    await view('login').getByRole('button', { name: 'Log in' }).click();
    await page.getByRole('heading', { name: 'Clusters' }).waitFor({ timeout: STEP_TIMEOUT });
    await page.locator('#clusters-empty').waitFor({ state: 'visible', timeout: STEP_TIMEOUT });
    check(await page.locator('#alert').isHidden(),
        `an error is shown after login: ${await alertText()}`);
    // The cookie alone does not allow writes: the page's own requests carry X-CSRF-Token.
    const bare = await page.evaluate(async () => (await fetch('/api/v1/clusters', {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{}',
    })).status);
    check(bare === 403, `a cookie-only write answered ${bare}, expected 403 (CSRF)`);
}

async function openConnect() {
    await page.getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Connect a cluster' }).click();
    await page.getByRole('heading', { name: 'Connect a cluster' }).waitFor();
    const manifest = page.locator('#manifest');
    await page.waitForFunction(() => document.getElementById('manifest')
        .textContent.includes('vigil-reader'), null, { timeout: STEP_TIMEOUT });
    const text = await manifest.innerText();
    for (const want of ['kind: ServiceAccount', 'kind: ClusterRole', 'kind: ClusterRoleBinding',
        'kind: Secret', 'vigil-reader']) {
        check(text.includes(want), `the manifest lacks "${want}"`);
    }
    check(!/^\s*-\s*secrets\s*$/m.test(text), 'the manifest grants Secrets');
    check(await page.getByRole('button', { name: 'Copy manifest' }).isVisible(),
        'no copy button for the manifest');
    await page.getByRole('button', { name: 'Copy manifest' }).click();
    await page.getByRole('button', { name: 'Copied' }).waitFor({ timeout: 3000 });
}

async function fillCluster(name, token) {
    const ca = readFileSync(process.env.KUBE_CA_FILE, 'utf8');
    await page.getByLabel('Cluster name').fill(name);
    await page.getByLabel('API server URL').fill(KUBE_URL);
    await page.getByLabel('CA certificate (PEM)').fill(ca);
    await page.getByLabel('Service account token').fill(token);
    await page.getByRole('button', { name: 'Verify and connect' }).click();
}

async function overPrivileged() {
    await fillCluster(`admin-${run}`, KUBE_BAD_TOKEN);
    const text = await visibleAlert();
    check(/over-privileged/i.test(text), `an admin token was not refused clearly: ${text}`);
    check(await page.locator('#alert-list li').count() > 0, 'the offending rules are not listed');
    check(await page.locator('#connected').isHidden(), 'an ingest token was shown anyway');
}

async function connectCluster() {
    await fillCluster(`stand-in-${run}`, KUBE_TOKEN);
    const connected = page.locator('#connected');
    await connected.waitFor({ state: 'visible', timeout: STEP_TIMEOUT * 2 });
    const token = await page.getByLabel('Ingest token').inputValue();
    check(/^vgi_\S{16,}$/.test(token), `no ingest token shown (got "${token}")`);
    secrets.ingest_token = token;
    const fluent = await page.locator('#snippet-fluentbit').innerText();
    for (const want of ['Name              tail', '/var/log/containers/*istio-proxy*.log',
        'multiline.parser  docker, cri', 'Name            http', '/v1/traces',
        `Header          Authorization Bearer ${token}`, 'Format          json',
        'compress        gzip']) {
        check(fluent.includes(want), `the Fluent Bit snippet lacks "${want}"`);
    }
    check((await page.locator('#snippet-mesh').innerText()).includes('accessLogEncoding: JSON'),
        'no Istio JSON access-log setting');
    // The APIClarity option is a keyboard-operable tab.
    await page.getByRole('tab', { name: 'Istio access logs (Fluent Bit)' }).focus();
    await page.keyboard.press('ArrowRight');
    const apiclarity = page.getByRole('tabpanel', { name: 'APIClarity' });
    await apiclarity.waitFor({ state: 'visible' });
    check((await apiclarity.innerText()).includes(`Bearer ${token}`),
        'the APIClarity snippet lacks the ingest token');
    await page.keyboard.press('ArrowLeft');
    await page.getByRole('tabpanel', { name: 'Istio access logs (Fluent Bit)' }).waitFor();
}

async function clustersList() {
    await page.getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Clusters' }).click();
    const row = page.getByRole('row', { name: new RegExp(`stand-in-${run}`) });
    await row.waitFor({ timeout: STEP_TIMEOUT });
    const text = await row.innerText();
    check(text.includes(KUBE_URL), `the row does not show the API server (${text})`);
    check(/pending|ok|unreachable|unauthorized|error/i.test(text), `no status in the row: ${text}`);
    check(await page.getByRole('row', { name: new RegExp(`admin-${run}`) }).count() === 0,
        'the refused cluster was stored');
    await row.getByRole('button', { name: /^Sync cluster/ }).click();
    const synced = await visibleAlert();
    check(/sync of stand-in-.* was requested/i.test(synced), `sync not confirmed: ${synced}`);
}

const ORDERS_SPEC = `openapi: 3.0.3
info:
  title: Orders
  version: 1.4.0
servers:
  - url: http://orders.shop.svc.cluster.local:8080
  - url: http://127.0.0.1:18999
paths:
  /v1/orders:
    get:
      responses:
        '200':
          description: the orders
  /v0/orders/{orderId}:
    get:
      deprecated: true
      parameters:
        - name: orderId
          in: path
          required: true
          schema: {type: integer}
      responses:
        '200':
          description: one order
`;

async function openApiSpec() {
    const form = page.getByRole('form', { name: 'Upload an OpenAPI spec' });
    await form.waitFor();
    check(await form.getByLabel('Cluster').inputValue() !== '', 'no cluster to upload for');
    // a document that is not OpenAPI 3 gets the API's explanation
    await form.getByLabel('OpenAPI document').setInputFiles({
        name: 'swagger.json', mimeType: 'application/json',
        buffer: Buffer.from('{"swagger": "2.0", "info": {"title": "old"}}'),
    });
    await form.getByRole('button', { name: 'Upload spec' }).click();
    const refused = await visibleAlert();
    check(/openapi/i.test(refused), `an invalid document was not explained: ${refused}`);
    await form.getByLabel('OpenAPI document').setInputFiles({
        name: 'orders.yaml', mimeType: 'application/yaml', buffer: Buffer.from(ORDERS_SPEC),
    });
    await form.getByRole('button', { name: 'Upload spec' }).click();
    const done = await visibleAlert();
    check(/Spec Orders 1\.4\.0 uploaded for orders\.shop\.svc\.cluster\.local:8080/.test(done),
        `the spec upload was not confirmed: ${done}`);
    const row = page.locator('#specs-table tbody tr', { hasText: 'Orders' });
    await row.waitFor();
    check((await row.innerText()).includes('1.4.0'), 'the uploaded spec is not listed');
}

async function usage() {
    await page.getByRole('link', { name: 'Usage' }).click();
    await page.getByRole('heading', { name: 'Usage' }).waitFor();
    await page.waitForFunction(() => document.getElementById('usage-plan').textContent !== '–'
        || !document.getElementById('alert').hidden, null, { timeout: STEP_TIMEOUT });
    if (await page.locator('#alert').isVisible()) {
        fail(`usage failed: ${await alertText()}`);
    }
    const plan = await page.locator('#usage-plan').innerText();
    check(/free/i.test(plan), `the plan is not shown (${plan})`);
    const limit = await page.locator('#usage-limit').innerText();
    check(/^\d+$|unlimited/.test(limit), `no workload limit shown (${limit})`);
    const clusters = await page.locator('#usage-clusters').innerText();
    check(clusters === '1', `usage counts ${clusters} clusters, expected 1`);
    if (SEED_DB) {
        // after the findings step: 4 endpoints, 3 findings of which one was resolved
        const apis = await page.locator('#usage-apis').innerText();
        check(apis === '4', `usage counts ${apis} APIs, expected 4`);
        const open = await page.locator('#usage-findings').innerText();
        check(open === '2', `usage counts ${open} open findings, expected 2`);
    }
}

// Rows the report and inventory services would write for the tenant of `account`.
function seedTenantData() {
    const sql = `
        WITH t AS (SELECT tenant_id FROM users WHERE email = lower(:'email')),
        c AS (SELECT id, tenant_id FROM clusters WHERE name = :'cluster'),
        f AS (
            INSERT INTO findings (tenant_id, cluster_id, fingerprint, source, scope, rule_id,
                                  title, severity, category, object, field, remediation)
            SELECT c.tenant_id, c.id, md5(random()::text) || v.rule, v.source, v.source,
                   v.rule, v.title, v.severity, v.category, v.object::jsonb, v.field, v.fix
              FROM c, (VALUES
                ('posture', 'VGL-POD-001', 'Privileged container', 'critical', 'pod-security',
                 '{"kind":"Deployment","namespace":"shop","name":"payments"}',
                 'spec.template.spec.containers[0].securityContext.privileged',
                 'Set privileged: false.'),
                ('api', 'VGL-API-010', 'Sensitive data in URL', 'medium', 'sensitive-data',
                 '{"method":"GET","host":"users.shop","endpoint":"/users/{userId}"}', 'path',
                 'Move e-mail addresses out of the path.'),
                ('kube-bench', '1.2.1', 'Anonymous auth is enabled', 'low', 'cis',
                 '{"kind":"Node","name":"node-1"}', '--anonymous-auth',
                 'Set --anonymous-auth=false.')
              ) AS v(source, rule, title, severity, category, object, field, fix)
            RETURNING 1),
        bulk AS (
            INSERT INTO findings (tenant_id, cluster_id, fingerprint, source, scope, rule_id,
                                  title, severity, category, status, first_seen)
            SELECT c.tenant_id, c.id, 'bulk-' || g, 'kubeaudit', 'scan:kubeaudit',
                   'AutomountServiceAccountToken', 'Token automount ' || g, 'info', 'rbac',
                   'suppressed', now() - g * interval '1 minute'
              FROM c, generate_series(1, 55) AS g
            RETURNING 1)
        INSERT INTO api_endpoints (tenant_id, cluster_id, service, host, class, method,
                                   path_template, auth, shadow, zombie, request_count, sensitive)
        SELECT c.tenant_id, c.id, v.service, v.host, v.class, v.method, v.path, v.auth,
               v.shadow, v.zombie, v.n, v.sensitive::jsonb
          FROM c, (VALUES
            ('users.shop', 'users.shop:8080', 'internal', 'GET', '/users/{userId}', 'none',
             false, false, 120, '[{"kind":"email","where":"response"}]'),
            ('orders.shop', 'orders.shop:8080', 'external', 'POST', '/v1/orders', 'jwt',
             true, false, 42, '[]'),
            ('orders.shop', 'orders.shop:8080', 'external', 'GET', '/v0/orders/{orderId}',
             'bearer', false, true, 7, '[]'),
            ('api.stripe.com', 'api.stripe.com:443', 'outbound', 'CONNECT', '/', 'unknown',
             false, false, 3, '[]')
          ) AS v(service, host, class, method, path, auth, shadow, zombie, n, sensitive);
        SELECT count(*) FROM findings f JOIN users u ON u.tenant_id = f.tenant_id
         WHERE u.email = lower(:'email') AND f.status = 'open';`;
    const out = execFileSync(PSQL, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
        '-v', `email=${account.email}`, '-v', `cluster=stand-in-${run}`, SEED_DB],
    { input: sql, encoding: 'utf8' });
    check(out.trim() === '3', `seeding wrote ${out.trim()} findings, expected 3`);
}

async function findingRows() {
    return page.locator('#findings-table tbody tr').count();
}

async function applyFindingFilters(severity, status) {
    const filters = page.getByRole('form', { name: 'Filter findings' });
    await filters.getByLabel('Severity').selectOption(severity);
    await filters.getByLabel('Status').selectOption(status);
    const answer = page.waitForResponse((r) => r.url().includes('/api/v1/findings'));
    await filters.getByRole('button', { name: 'Apply filters' }).click();
    check((await answer).status() === 200, 'the filtered findings request failed');
    await page.locator('#findings-card:not([aria-busy])').waitFor();
}

async function findings() {
    await page.getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Findings' }).click();
    await page.getByRole('heading', { name: 'Findings', exact: true }).waitFor();
    await page.locator('#findings-table tbody tr').first().waitFor({ timeout: STEP_TIMEOUT });
    check(await findingRows() === 3, `expected 3 open findings, see ${await findingRows()}`);
    // pages: 55 suppressed findings come 50 at a time, the rest with "Load more"
    await applyFindingFilters('', 'suppressed');
    check(await findingRows() === 50, `first page: ${await findingRows()} rows, expected 50`);
    const more = page.getByRole('button', { name: 'Load more' });
    await more.click();
    await page.locator('#findings-card:not([aria-busy])').waitFor();
    check(await findingRows() === 55, `after Load more: ${await findingRows()} rows`);
    check(await more.isHidden(), '"Load more" is still offered after the last page');
    const titles = await page.locator('#findings-table tbody .cell-title').allInnerTexts();
    check(new Set(titles).size === 55, 'a finding was listed twice across pages');
    await applyFindingFilters('critical', 'open');
    check(await findingRows() === 1, `severity filter: ${await findingRows()} rows, expected 1`);
    const row = page.getByRole('row', { name: /Privileged container/ });
    check((await row.innerText()).includes('Deployment shop/payments'), 'no object shown');
    await row.getByRole('combobox').selectOption('resolved');
    const patched = page.waitForResponse((r) => r.request().method() === 'PATCH');
    await row.getByRole('button', { name: /Set the status/ }).click();
    check((await patched).status() === 200, 'PATCH of the finding failed');
    const text = await visibleAlert();
    check(/now resolved/.test(text), `no confirmation of the status change: ${text}`);
    await applyFindingFilters('critical', 'open');
    check(await page.locator('#findings-empty').isVisible(), 'the resolved finding is still open');
    await applyFindingFilters('critical', 'resolved');
    check(await findingRows() === 1, 'the finding is not listed as resolved');
}

async function apiInventory() {
    await page.getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'API inventory' }).click();
    await page.getByRole('heading', { name: 'API inventory', exact: true }).waitFor();
    await page.locator('#apis-table tbody tr').first().waitFor({ timeout: STEP_TIMEOUT });
    const rows = await page.locator('#apis-table tbody tr').count();
    check(rows === 4, `expected 4 API endpoints, see ${rows}`);
    const expect = [
        ['/users/{userId}', ['GET', 'internal', 'none', 'sensitive: email']],
        ['/v1/orders', ['POST', 'external', 'jwt', 'shadow']],
        ['/v0/orders/{orderId}', ['GET', 'external', 'bearer', 'zombie']],
    ];
    for (const [path, wants] of expect) {
        const row = page.getByRole('row', { name: path, exact: false }).first();
        const text = (await row.innerText()).toLowerCase();
        for (const want of wants) {
            check(text.includes(want.toLowerCase()), `the row of ${path} lacks "${want}": ${text}`);
        }
    }
    // each endpoint links to the OpenAPI document Vigil generated for it
    const link = page.getByRole('link', { name: 'OpenAPI document of POST /v1/orders' });
    const answer = await page.request.get(new URL(await link.getAttribute('href'), PORTAL).href);
    check(answer.status() === 200, `the OpenAPI link answered ${answer.status()}`);
    const doc = await answer.json();
    check(String(doc.openapi).startsWith('3.') && doc.paths && doc.paths['/v1/orders'],
        `the linked document is not the endpoint's OpenAPI: ${JSON.stringify(doc).slice(0, 200)}`);
}

async function activeTest() {
    await page.getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Active tests' }).click();
    await page.getByRole('heading', { name: 'Active tests', exact: true }).waitFor();
    await page.locator('#jobs-empty').waitFor({ state: 'visible' });
    const form = page.getByRole('form', { name: 'Test an API you own' });
    // a host named in the servers of the uploaded Orders spec is the tenant's (dev mode);
    // no fuzzer runs in this test, so the job stays queued
    const base = 'http://127.0.0.1:18999';
    await form.getByLabel('Base URL').fill(base);
    await form.getByRole('group', { name: 'First identity' }).getByLabel('Header value')
        .fill(secrets.identity_a);
    const second = form.getByRole('group', { name: 'Second identity (optional)' });
    await second.getByLabel('Header value').fill(secrets.identity_b);
    await second.getByLabel('Role').selectOption('admin');
    await form.getByLabel('Injection (SQL, command)').uncheck();
    const sent = page.waitForRequest((r) => r.url().endsWith('/api/v1/fuzz-jobs')
        && r.method() === 'POST');
    await form.getByRole('button', { name: 'Start test' }).click();
    const body = (await sent).postDataJSON();
    check(body.identities.length === 2 && body.identities[1].role === 'admin',
        `the identities were not sent as filled: ${JSON.stringify(body.identities.map(
            (i) => ({ name: i.name, role: i.role })))}`);
    check(body.categories.length === 8 && !body.categories.includes('injection'),
        `the categories were not sent as chosen: ${body.categories}`);
    check(body.allow_unsafe_methods === false, 'unsafe methods were allowed by default');
    const text = await visibleAlert();
    check(/is queued/.test(text), `the test was not queued: ${text}`);
    const row = page.getByRole('row', { name: new RegExp(base.replace(/[.]/g, '\\.')) });
    await row.waitFor();
    check(/queued|running|done|failed/i.test(await row.innerText()), 'the job has no status');
}

async function notifications() {
    await page.getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: 'Notifications' }).click();
    await page.getByRole('heading', { name: 'Notifications', exact: true }).waitFor();
    await page.locator('#webhooks-empty').waitFor({ state: 'visible' });
    const hookUrl = `http://127.0.0.1:9/vigil-hook-${run}`;
    const hookForm = page.getByRole('form', { name: 'Add a webhook' });
    await hookForm.getByLabel('Webhook URL').fill(hookUrl);
    await hookForm.getByRole('button', { name: 'Add webhook' }).click();
    const added = await visibleAlert();
    check(/added/.test(added), `the webhook was not added: ${added}`);
    const secret = await page.getByLabel('Signing secret of the new webhook').inputValue();
    check(secret.length >= 16, `no generated signing secret shown (${secret.length} chars)`);
    secrets.webhook_secret = secret;
    const row = page.getByRole('row', { name: new RegExp(`vigil-hook-${run}`) });
    await row.waitFor();
    await row.getByRole('button', { name: /^Send a test delivery/ }).click();
    const tested = await visibleAlert();
    check(/test delivery .* queued/i.test(tested), `the test delivery was not queued: ${tested}`);

    const mailForm = page.getByRole('form', { name: 'Add an email recipient' });
    await mailForm.getByLabel('Email address').fill('not-an-address');
    await mailForm.getByRole('button', { name: 'Add recipient' }).click();
    const invalid = await visibleAlert();
    check(/not a valid email/i.test(invalid), `an invalid address was not refused: ${invalid}`);
    const rcpt = `alerts+${run}@example.com`;
    await mailForm.getByLabel('Email address').fill(rcpt);
    await mailForm.getByRole('button', { name: 'Add recipient' }).click();
    await page.getByRole('row', { name: new RegExp(rcpt.replace('+', '\\+')) }).waitFor();
    await mailForm.getByLabel('Email address').fill(rcpt);
    await mailForm.getByRole('button', { name: 'Add recipient' }).click();
    const twice = await visibleAlert();
    check(/already/i.test(twice), `a duplicate recipient was not explained: ${twice}`);
}

// A view that lists data: it must end with rows, its empty state, or the API's error shown.
async function listView(link, heading, table, empty) {
    await page.getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name: link }).click();
    await page.getByRole('heading', { name: heading, exact: true }).waitFor();
    await page.waitForFunction(([t, e]) => {
        const rows = document.querySelectorAll(`#${t} tbody tr`).length;
        return rows > 0 || !document.getElementById(e).hidden
            || !document.getElementById('alert').hidden;
    }, [table, empty], { timeout: STEP_TIMEOUT });
    if (await page.locator('#alert').isVisible()) {
        const text = await alertText();
        check(text.length > 0, 'an empty error was shown');
        return `error shown: ${text}`;
    }
    return 'listed';
}

// The call graph, third-party hosts and generated policies the inventory would write.
function seedTopology() {
    const sql = `
        WITH c AS (SELECT id, tenant_id FROM clusters WHERE name = :'cluster'),
        e AS (
            INSERT INTO api_edges (tenant_id, cluster_id, source, destination, class, calls,
                                   errors, latency_ms)
            SELECT c.tenant_id, c.id, v.src, v.dst, v.class, v.calls, v.errors, v.lat::jsonb
              FROM c, (VALUES
                ('external', 'orders.shop', 'external', 1200, 36,
                 '{"p50": 18, "p90": 45, "p99": 120}'),
                ('web.shop', 'orders.shop', 'internal', 800, 0,
                 '{"p50": 9, "p90": 20, "p99": 41}'),
                ('orders.shop', 'users.shop', 'internal', 640, 2,
                 '{"p50": 4, "p90": 9, "p99": 22}'),
                ('orders.shop', 'api.stripe.com', 'outbound', 75, 0,
                 '{"p50": 210, "p90": 380, "p99": 910}')
              ) AS v(src, dst, class, calls, errors, lat)
            RETURNING 1),
        h AS (
            INSERT INTO api_outbound_hosts (tenant_id, cluster_id, host, callers, plaintext,
                                            calls)
            SELECT c.tenant_id, c.id, v.host, v.callers::text[], v.plain, v.calls
              FROM c, (VALUES
                ('api.stripe.com', '{orders.shop}', false, 75),
                ('legacy-geo.example.net', '{users.shop,web.shop}', true, 12)
              ) AS v(host, callers, plain, calls)
            RETURNING 1)
        INSERT INTO api_policies (tenant_id, cluster_id, service, callers, policy)
        SELECT c.tenant_id, c.id, 'orders.shop', 1, '{
            "apiVersion": "security.istio.io/v1", "kind": "AuthorizationPolicy",
            "metadata": {"name": "orders-least-privilege", "namespace": "shop"},
            "spec": {"selector": {"matchLabels": {"app": "orders"}}, "action": "ALLOW",
              "rules": [{"from": [{"source": {"principals":
                ["cluster.local/ns/shop/sa/web"]}}],
                "to": [{"operation": {"methods": ["GET", "POST"],
                  "paths": ["/v1/orders", "/v1/orders/*"]}}]}]}}'::jsonb
          FROM c;
        SELECT count(*) FROM api_edges e JOIN clusters c ON c.id = e.cluster_id
         WHERE c.name = :'cluster';`;
    const out = execFileSync(PSQL, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
        '-v', `cluster=stand-in-${run}`, SEED_DB], { input: sql, encoding: 'utf8' });
    check(out.trim() === '4', `seeding wrote ${out.trim()} edges, expected 4`);
}

// A report as the report service would build it (tenant_reports: data jsonb, html text).
function seedReport() {
    const sql = `
        INSERT INTO tenant_reports (tenant_id, data, html)
        SELECT c.tenant_id, jsonb_build_object(
            'generated_at', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
            'totals', '{"open": 2, "resolved": 1, "suppressed": 55}'::jsonb,
            'by_severity', '{"critical": 1, "high": 0, "medium": 1, "low": 0, "info": 0}'::jsonb,
            'by_category', '[{"category": "pod-security", "count": 1},
                             {"category": "sensitive-data", "count": 1}]'::jsonb,
            'by_cluster', jsonb_build_array(jsonb_build_object('cluster_id', c.id,
                'cluster', c.name, 'count', 2)),
            'top_risks', '[{"rule_id": "VGL-POD-001", "title": "Privileged container",
                "severity": "critical", "category": "pod-security",
                "object": {"kind": "Deployment", "namespace": "shop", "name": "payments"}},
               {"rule_id": "VGL-API-010", "title": "Sensitive data in URL",
                "severity": "medium", "category": "sensitive-data",
                "object": {"method": "GET", "path": "/users/{userId}"}}]'::jsonb),
            '<!doctype html><html><head><title>Vigil report</title></head><body>'
            || '<h1>Security report</h1><p>2 open findings</p></body></html>'
          FROM clusters c WHERE c.name = :'cluster'
        RETURNING 1;`;
    const out = execFileSync(PSQL, ['-X', '-q', '-A', '-t', '-v', 'ON_ERROR_STOP=1',
        '-v', `cluster=stand-in-${run}`, SEED_DB], { input: sql, encoding: 'utf8' });
    check(out.trim() === '1', `seeding wrote ${out.trim()} reports, expected 1`);
}

async function openView(name) {
    await page.getByRole('navigation', { name: 'Main' })
        .getByRole('link', { name, exact: true }).click();
    await page.getByRole('heading', { name, exact: true }).waitFor();
    await page.locator('main [aria-busy]').waitFor({ state: 'detached' });
    if (await page.locator('#alert').isVisible()) {
        fail(`${name} failed: ${await alertText()}`);
    }
}

async function topology() {
    await openView('Topology');
    if (!SEED_DB) {
        check(await page.locator('#topo-edges-empty').isVisible()
            || await page.locator('#topo-edges table').count() > 0, 'no edges and no empty state');
        return;
    }
    check(await page.locator('#topo-count-edges').innerText() === '4', 'expected 4 call paths');
    check(await page.locator('#topo-count-plaintext').innerText() === '1',
        'expected 1 host called in plaintext');
    // edges grouped by destination: orders.shop has two callers, busiest first
    const group = page.locator('.topo-group', { has: page.getByRole('heading',
        { name: /^orders\.shop/ }) });
    check(await group.count() === 1, 'no orders.shop group');
    const rows = group.locator('tbody tr');
    check(await rows.count() === 2, `orders.shop has ${await rows.count()} callers, expected 2`);
    const first = await rows.nth(0).innerText();
    check(/external/.test(first) && /1,200/.test(first) && /3\.0%/.test(first)
        && /18 ms/.test(first) && /120 ms/.test(first),
    `the external caller's row is wrong: ${first}`);
    check(await rows.nth(0).locator('.num.bad').count() === 1,
        'a 3% error rate (2% or more) is not flagged');
    check(/web\.shop/.test(await rows.nth(1).innerText()), 'web.shop is not a caller');
    check(await page.locator('.topo-group h3').count() === 3, 'expected 3 destinations');
    // third-party hosts with their callers; plaintext flagged
    const geo = page.locator('#topo-hosts-table tr', { hasText: 'legacy-geo.example.net' });
    const geoText = await geo.innerText();
    check(/plaintext/i.test(geoText) && /users\.shop/.test(geoText) && /web\.shop/.test(geoText),
        `the plaintext host row is wrong: ${geoText}`);
    const stripe = await page.locator('#topo-hosts-table tr', { hasText: 'api.stripe.com' })
        .innerText();
    check(/TLS/.test(stripe) && /orders\.shop/.test(stripe), `stripe row is wrong: ${stripe}`);
    // the generated AuthorizationPolicy as YAML, with a copy button
    const yaml = await page.locator('#topo-policy-0').innerText();
    for (const line of ['apiVersion: security.istio.io/v1', 'kind: AuthorizationPolicy',
        '  name: orders-least-privilege', '  action: ALLOW', '  rules:',
        '        - cluster.local/ns/shop/sa/web', '        - /v1/orders/*']) {
        check(yaml.includes(line), `the policy YAML lacks "${line}":\n${yaml}`);
    }
    const copy = page.getByRole('button', { name: 'Copy the AuthorizationPolicy of orders.shop' });
    await copy.focus();
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => document.getElementById('status').textContent
        .includes('Copied'));
    const clip = await page.evaluate(() => navigator.clipboard.readText());
    check(clip === yaml.replace(/\n?$/, '\n') || clip.trim() === yaml.trim(),
        'the clipboard does not hold the policy');
    await page.locator('#topology-title').scrollIntoViewIfNeeded();
}

async function report() {
    await openView('Report');
    if (!SEED_DB) {
        check(await page.locator('#report-missing').isVisible()
            || await page.locator('#report-body').isVisible(), 'the report view shows nothing');
        return;
    }
    // no report built yet: the API's 404 message, shown in the view (not as a failure)
    const missing = await page.locator('#report-missing').innerText();
    check(/no report has been generated/i.test(missing), `no 404 message: ${missing}`);
    check(!(await page.locator('#report-body').isVisible()), 'an empty report is shown');
    check(!(await page.locator('#report-open').isVisible()), 'a link to a missing report');
    seedReport();
    await openView('Usage');               // and back: the view loads the new report
    await openView('Report');
    await page.locator('#report-body').waitFor({ state: 'visible' });
    check(await page.locator('#report-total-open').innerText() === '2', 'open total is not 2');
    const sev = await page.locator('#report-severity').innerText();
    check(/critical\s*1/i.test(sev) && /medium\s*1/i.test(sev), `severity counts: ${sev}`);
    const cat = await page.locator('#report-category').innerText();
    check(/pod-security\s*1/.test(cat) && /sensitive-data\s*1/.test(cat), `categories: ${cat}`);
    const cl = await page.locator('#report-cluster').innerText();
    check(cl.includes(`stand-in-${run}`) && /2/.test(cl), `clusters: ${cl}`);
    const risks = page.locator('#report-risks li');
    check(await risks.count() === 2, 'expected 2 top risks');
    check(/Privileged container/.test(await risks.nth(0).innerText()), 'top risk is wrong');
    // the full report opens with the session cookie
    const link = page.getByRole('link', { name: 'Open the full report' });
    check(await link.getAttribute('href') === '/api/v1/report.html', 'wrong report link');
    const [popup] = await Promise.all([page.waitForEvent('popup'), link.click()]);
    await popup.waitForLoadState();
    const body = await popup.locator('h1').innerText();
    check(body === 'Security report', `report.html shows "${body}"`);
    await popup.close();
    await page.bringToFront();
}

async function narrowScreen() {
    await page.setViewportSize({ width: 390, height: 844 });
    const views = ['Clusters', 'Findings', 'API inventory', 'Active tests', 'Notifications',
        'Topology', 'Report', 'Usage', 'Connect a cluster'];
    for (const name of views) {
        await page.getByRole('navigation', { name: 'Main' })
            .getByRole('link', { name, exact: true }).click();
        await page.getByRole('heading', { name, exact: true }).waitFor();
        await page.locator('main [aria-busy]').waitFor({ state: 'detached' });
        const overflow = await page.evaluate(() => document.documentElement.scrollWidth
            - document.documentElement.clientWidth);
        check(overflow <= 1, `${name} scrolls sideways on a phone (${overflow}px)`);
    }
}

// ---------------------------------------------------------------------------- main

async function main() {
    check(PORTAL, 'PORTAL_URL is not set');
    check(KUBE_URL && process.env.KUBE_CA_FILE, 'KUBE_URL and KUBE_CA_FILE are required');
    mkdirSync(SHOTS, { recursive: true });
    const profile = mkdtempSync(path.join(tmpdir(), 'vigil-chromium-'));
    const context = await chromium.launchPersistentContext(profile, {
        executablePath: CHROMIUM,
        headless: true,
        args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
            '--disable-background-networking', '--disable-component-update', '--disable-sync'],
        viewport: { width: 1280, height: 860 },
        permissions: ['clipboard-read', 'clipboard-write'],
    });
    const pageErrors = [];
    try {
        page = context.pages()[0] || await context.newPage();
        page.setDefaultTimeout(STEP_TIMEOUT);
        page.on('pageerror', (err) => pageErrors.push(err.message));
        page.on('dialog', (dialog) => dialog.dismiss());

        await step('signup-keyboard', checkSignupKeyboard);
        await step('signup-api-key', signUpByKeyboard);
        await step('logout', logOut);
        await step('signup-duplicate', duplicateSignup);
        await step('wrong-password', wrongPassword);
        await step('login', logIn);
        await step('connect-manifest', openConnect);
        await step('connect-over-privileged', overPrivileged);
        await step('connect-ingest-token', connectCluster);
        await step('clusters', clustersList);
        await step('openapi-spec', openApiSpec);
        if (SEED_DB) {
            seedTenantData();
            await step('findings', findings);
            await step('api-inventory', apiInventory);
        } else {
            await step('findings', async () => {
                console.log(`     findings: ${await listView('Findings', 'Findings',
                    'findings-table', 'findings-empty')}`);
            });
            await step('api-inventory', async () => {
                console.log(`     apis: ${await listView('API inventory', 'API inventory',
                    'apis-table', 'apis-empty')}`);
            });
        }
        await step('active-test', activeTest);
        await step('notifications', notifications);
        await step('usage', usage);
        if (SEED_DB) {
            seedTopology();
        }
        await step('topology', topology);
        await step('report', report);
        await step('phone-connect', narrowScreen);
        check(pageErrors.length === 0, `uncaught errors in the page: ${pageErrors.join('; ')}`);
    } finally {
        await context.close();
        rmSync(profile, { recursive: true, force: true });
        if (process.env.SECRETS_FILE) {
            writeFileSync(process.env.SECRETS_FILE, JSON.stringify(secrets), { mode: 0o600 });
        }
    }
}

main().then(() => {
    console.log(`browser test passed: ${results.length} steps, screenshots in ${SHOTS}`);
    process.exit(0);
}, (err) => {
    console.error(`browser test FAILED: ${err.message}`);
    process.exit(1);
});

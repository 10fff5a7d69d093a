// Unit test of the page's API client and text helpers (services/portal/www/api.js, ui.js),
// run with node against a stubbed fetch:
//   node tests/browser/client.test.mjs
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const WWW = path.join(path.dirname(fileURLToPath(import.meta.url)), '..', '..', 'services',
    'portal', 'www');
const load = (name) => import(pathToFileURL(path.join(WWW, name)).href);
const { ApiError, api, itemsOf, nextCursorOf, setCsrf, setCsrfRefresh } = await load('api.js');
const { offendingRules, sentence } = await load('ui.js');

let passed = 0;
async function test(name, fn) {
    await fn();
    passed += 1;
    console.log(`ok   ${name}`);
}

// A fetch that answers from a list of {status, body, type} and records the requests.
function stubFetch(answers) {
    const calls = [];
    globalThis.fetch = async (url, init) => {
        calls.push({ url, ...init });
        const next = answers.shift();
        if (next instanceof Error) {
            throw next;
        }
        const text = typeof next.body === 'string' ? next.body : JSON.stringify(next.body);
        return new Response(next.status === 204 ? null : text, {
            status: next.status,
            headers: { 'Content-Type': next.type || 'application/json' },
        });
    };
    return calls;
}

await test('GET carries no CSRF header, writes do', async () => {
    setCsrf('tok123');
    const calls = stubFetch([{ status: 200, body: { clusters: [] } },
        { status: 201, body: { cluster_id: 'c1' } }]);
    await api('GET', '/clusters');
    await api('POST', '/clusters', { name: 'a' });
    assert.equal(calls[0].url, '/api/v1/clusters');
    assert.equal(calls[0].headers['X-CSRF-Token'], undefined);
    assert.equal(calls[0].body, undefined);
    assert.equal(calls[1].headers['X-CSRF-Token'], 'tok123');
    assert.equal(calls[1].headers['Content-Type'], 'application/json');
    assert.equal(calls[1].body, '{"name":"a"}');
    assert.equal(calls[1].credentials, 'same-origin');
});

await test('logged out: no CSRF header at all', async () => {
    setCsrf('');
    const calls = stubFetch([{ status: 200, body: {} }]);
    await api('POST', '/login', { email: 'a@b.c', password: 'x' });
    assert.equal(calls[0].headers['X-CSRF-Token'], undefined);
});

await test('the API error message and details reach the caller', async () => {
    stubFetch([{ status: 422, body: { error: { code: 'over_privileged', message: 'too much',
        offending_rules: [{ verbs: ['*'], resources: ['*'], reason: 'wildcard' }] } } }]);
    await assert.rejects(api('POST', '/clusters', {}), (err) => {
        assert.ok(err instanceof ApiError);
        assert.equal(err.status, 422);
        assert.equal(err.code, 'over_privileged');
        assert.equal(err.message, 'too much');
        assert.deepEqual(offendingRules(err.details), ['Wildcard: verbs * on resources *']);
        return true;
    });
});

await test('an error without a JSON body still explains the status', async () => {
    stubFetch([{ status: 502, body: '<html>bad gateway</html>', type: 'text/html' }]);
    await assert.rejects(api('GET', '/usage'),
        { status: 502, message: 'Request failed: the server had a problem.' });
});

await test('a network failure says Vigil cannot be reached', async () => {
    stubFetch([new TypeError('Failed to fetch')]);
    await assert.rejects(api('GET', '/usage'), { status: 0, code: 'network' });
});

await test('a CSRF refusal reloads the session and retries once', async () => {
    setCsrf('old');
    let refreshed = 0;
    setCsrfRefresh(async () => {
        refreshed += 1;
        setCsrf('new');
    });
    const calls = stubFetch([
        { status: 403, body: { error: { code: 'csrf', message: 'wrong X-CSRF-Token' } } },
        { status: 200, body: { id: 'f1', status: 'resolved' } },
    ]);
    const out = await api('PATCH', '/findings/f1', { status: 'resolved' });
    assert.equal(out.status, 'resolved');
    assert.equal(refreshed, 1);
    assert.deepEqual(calls.map((c) => c.headers['X-CSRF-Token']), ['old', 'new']);
});

await test('a second CSRF refusal is reported, not retried forever', async () => {
    setCsrf('t');
    const calls = stubFetch([
        { status: 403, body: { error: { code: 'csrf', message: 'wrong token' } } },
        { status: 403, body: { error: { code: 'csrf', message: 'wrong token' } } },
    ]);
    await assert.rejects(api('POST', '/logout', {}), { status: 403, message: 'wrong token' });
    assert.equal(calls.length, 2);
});

await test('a raw upload is sent as it is with its content type', async () => {
    setCsrf('t');
    const calls = stubFetch([{ status: 201, body: { spec_id: 's1' } }]);
    await api('POST', '/clusters/c1/specs', 'openapi: 3.0.3\n',
        { contentType: 'application/yaml' });
    assert.equal(calls[0].body, 'openapi: 3.0.3\n');
    assert.equal(calls[0].headers['Content-Type'], 'application/yaml');
});

await test('a 204 answer and a YAML answer come back as text', async () => {
    stubFetch([{ status: 204 }, { status: 200, body: 'kind: List\n', type: 'application/yaml' }]);
    assert.equal(await api('DELETE', '/webhooks/w1'), '');
    assert.equal(await api('GET', '/onboarding/manifest.yaml'), 'kind: List\n');
});

await test('list envelopes and cursors', async () => {
    assert.deepEqual(itemsOf({ findings: [1, 2], next_cursor: 'x' }, 'findings'), [1, 2]);
    assert.deepEqual(itemsOf([3], 'apis'), [3]);
    assert.deepEqual(itemsOf({ items: [4] }, 'apis'), [4]);
    assert.deepEqual(itemsOf({ error: {} }, 'apis'), []);
    assert.equal(nextCursorOf({ next_cursor: 'abc' }), 'abc');
    assert.equal(nextCursorOf({ next_cursor: null }), null);
    assert.equal(nextCursorOf([1]), null);
});

await test('API messages become sentences', async () => {
    assert.equal(sentence('invalid email or password'), 'Invalid email or password.');
    assert.equal(sentence('Already a sentence.'), 'Already a sentence.');
    assert.equal(sentence('see the manifest (apply it)'), 'See the manifest (apply it)');
    assert.equal(sentence('  '), '');
});

await test('offending rules name verbs, resources, groups and non-resource URLs', async () => {
    assert.deepEqual(offendingRules({ offending_rules: [
        { verbs: ['get', 'list'], apiGroups: [''], resources: ['secrets'],
            reason: 'reads Secrets' },
        { verbs: ['*'], nonResourceURLs: ['*'] },
        'plain text',
    ] }), [
        'Reads Secrets: verbs get, list on resources secrets (API groups core)',
        'verbs * on non-resource URLs *',
        'plain text',
    ]);
    assert.deepEqual(offendingRules(undefined), []);
});

console.log(`client: ${passed} tests passed`);

// Unit test of the page's snippet generators (services/portal/www/snippets.js), run with node:
//   node tests/browser/snippets.test.mjs
import assert from 'node:assert/strict';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const MODULE = pathToFileURL(path.join(HERE, '..', '..', 'services', 'portal', 'www',
    'snippets.js'));
const { ingestTarget, fluentBitSnippet, meshConfigSnippet, apiClaritySnippet } =
    await import(MODULE.href);

let passed = 0;
function test(name, fn) {
    fn();
    passed += 1;
    console.log(`ok   ${name}`);
}

// "Key value" lines of one [SECTION] of a Fluent Bit classic configuration.
function section(text, header, nth = 0) {
    const blocks = text.split(/\n(?=\[)/).filter((b) => b.startsWith(`[${header}]`));
    assert.ok(blocks[nth], `no [${header}] #${nth} in:\n${text}`);
    const entries = [];
    for (const line of blocks[nth].split('\n').slice(1)) {
        const m = line.match(/^ {4}(\S+)\s+(.+)$/);
        if (m) {
            entries.push([m[1], m[2]]);
        } else {
            assert.ok(line === '' || line.startsWith('#'), `stray line "${line}"`);
        }
    }
    return entries;
}

const get = (entries, key) => entries.filter(([k]) => k === key).map(([, v]) => v);

test('ingest target of an https URL with the default port', () => {
    assert.deepEqual(ingestTarget('https://ingest.example.com'),
        { host: 'ingest.example.com', port: '443', tls: true, base: '',
            origin: 'https://ingest.example.com' });
});

test('ingest target of an http URL with a port and a path prefix', () => {
    const t = ingestTarget('http://10.0.0.5:8081/vigil/');
    assert.equal(t.host, '10.0.0.5');
    assert.equal(t.port, '8081');
    assert.equal(t.tls, false);
    assert.equal(t.base, '/vigil');
});

test('an unparsable ingest URL falls back to a placeholder host', () => {
    assert.equal(ingestTarget('not a url').host, 'ingest.example.com');
});

test('Fluent Bit: tail input on the istio-proxy logs with docker/cri', () => {
    const text = fluentBitSnippet({ url: 'https://ingest.example.com', token: 'vgi_abc' });
    const input = section(text, 'INPUT');
    assert.deepEqual(get(input, 'Name'), ['tail']);
    assert.deepEqual(get(input, 'Path'), ['/var/log/containers/*istio-proxy*.log']);
    assert.deepEqual(get(input, 'multiline.parser'), ['docker, cri']);
    const tag = get(input, 'Tag')[0];
    assert.ok(tag.endsWith('*'));
    // every filter and the output match the input's tag
    const match = tag;
    for (const [header, n] of [['FILTER', 0], ['FILTER', 1], ['OUTPUT', 0]]) {
        assert.deepEqual(get(section(text, header, n), 'Match'), [match], `${header} ${n}`);
    }
});

test('Fluent Bit: the JSON record is parsed out of the log key with a json parser', () => {
    const text = fluentBitSnippet({ url: 'https://ingest.example.com', token: 'vgi_abc' });
    const parser = section(text, 'PARSER');
    assert.deepEqual(get(parser, 'Format'), ['json']);
    const filter = section(text, 'FILTER', 0);
    assert.deepEqual(get(filter, 'Name'), ['parser']);
    assert.deepEqual(get(filter, 'Key_Name'), ['log']);
    assert.deepEqual(get(filter, 'Parser'), get(parser, 'Name'));
    const grep = section(text, 'FILTER', 1);
    assert.deepEqual(get(grep, 'Name'), ['grep']);
    assert.deepEqual(get(grep, 'Regex'), ['start_time .+']);
});

test('Fluent Bit: http output to /v1/traces with the bearer token, json, gzip, TLS', () => {
    const text = fluentBitSnippet({ url: 'https://ingest.example.com', token: 'vgi_abc' });
    const out = section(text, 'OUTPUT');
    assert.deepEqual(get(out, 'Name'), ['http']);
    assert.deepEqual(get(out, 'Host'), ['ingest.example.com']);
    assert.deepEqual(get(out, 'Port'), ['443']);
    assert.deepEqual(get(out, 'URI'), ['/v1/traces']);
    assert.deepEqual(get(out, 'Format'), ['json']);
    assert.deepEqual(get(out, 'Header'), ['Authorization Bearer vgi_abc']);
    assert.deepEqual(get(out, 'compress'), ['gzip']);
    assert.deepEqual(get(out, 'tls'), ['On']);
    assert.deepEqual(get(out, 'tls.verify'), ['On']);
});

test('Fluent Bit: plain http ingest turns TLS off and keeps the path prefix', () => {
    const text = fluentBitSnippet({ url: 'http://127.0.0.1:8081/edge', token: 't' });
    const out = section(text, 'OUTPUT');
    assert.deepEqual(get(out, 'Port'), ['8081']);
    assert.deepEqual(get(out, 'URI'), ['/edge/v1/traces']);
    assert.deepEqual(get(out, 'tls'), ['Off']);
    assert.deepEqual(get(out, 'tls.verify'), []);
});

test('Istio mesh config writes JSON access logs to stdout', () => {
    const text = meshConfigSnippet();
    assert.match(text, /^ {4}accessLogFile: \/dev\/stdout$/m);
    assert.match(text, /^ {4}accessLogEncoding: JSON$/m);
});

test('APIClarity example is a valid telemetry array posted with the token', () => {
    const text = apiClaritySnippet({ url: 'https://ingest.example.com', token: 'vgi_xyz' });
    assert.match(text, /^curl -sS https:\/\/ingest\.example\.com\/v1\/traces \\$/m);
    assert.match(text, /-H 'Authorization: Bearer vgi_xyz'/);
    const body = text.slice(text.indexOf("<<'EOF'\n") + 8, text.lastIndexOf('\nEOF'));
    const records = JSON.parse(body);
    assert.equal(records.length, 1);
    const rec = records[0];
    assert.equal(typeof rec.requestID, 'string');
    assert.match(rec.request.method, /^[A-Z]+$/);
    assert.ok(rec.request.path.startsWith('/'));
    assert.match(String(rec.response.statusCode), /^\d{3}$/);
    for (const part of [rec.request.common, rec.response.common]) {
        assert.ok(Array.isArray(part.headers));
        for (const h of part.headers) {
            assert.equal(typeof h.key, 'string');
        }
        // bodies are base64
        assert.equal(Buffer.from(part.body, 'base64').toString('base64'), part.body);
    }
    assert.deepEqual(JSON.parse(Buffer.from(rec.response.common.body, 'base64').toString()),
        { id: 42, name: 'Ada' });
});

console.log(`snippets: ${passed} tests passed`);

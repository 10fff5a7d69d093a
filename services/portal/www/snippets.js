// Ready-to-apply configuration snippets shown after a cluster is connected.
// Pure functions of the ingest endpoint and the cluster's ingest token.

// {host, port, tls, base} of an ingest URL such as https://ingest.example.com[:port][/prefix].
export function ingestTarget(url) {
    let parsed;
    try {
        parsed = new URL(url);
    } catch (err) {
        parsed = new URL('https://ingest.example.com');
    }
    const tls = parsed.protocol !== 'http:';
    const port = parsed.port || (tls ? '443' : '80');
    const base = parsed.pathname.replace(/\/+$/, '');
    return { host: parsed.hostname, port, tls, base, origin: `${parsed.protocol}//${parsed.host}` };
}

// Istio: make every sidecar write its access log to stdout as JSON.
export function meshConfigSnippet() {
    return [
        '# 1. Istio: JSON access logs on every sidecar\'s stdout (IstioOperator / istioctl).',
        '#    With Helm, set the same meshConfig keys in the istiod chart values.',
        'apiVersion: install.istio.io/v1alpha1',
        'kind: IstioOperator',
        'spec:',
        '  meshConfig:',
        '    accessLogFile: /dev/stdout',
        '    accessLogEncoding: JSON',
    ].join('\n');
}

// Fluent Bit (classic configuration): tail the istio-proxy container logs, unwrap the
// docker/CRI line, keep the JSON access-log records and post them to /v1/traces.
export function fluentBitSnippet({ url, token }) {
    const t = ingestTarget(url);
    const lines = [
        '# 2. Fluent Bit (the DaemonSet you already run): add to parsers.conf',
        '[PARSER]',
        '    Name        vigil_istio_json',
        '    Format      json',
        '',
        '# ... and to fluent-bit.conf',
        '[INPUT]',
        '    Name              tail',
        '    Tag               vigil.istio.*',
        '    Path              /var/log/containers/*istio-proxy*.log',
        '    multiline.parser  docker, cri',
        '    DB                /var/log/flb_vigil_istio.db',
        '    Mem_Buf_Limit     16MB',
        '    Skip_Long_Lines   On',
        '    Refresh_Interval  10',
        '',
        '# the runtime wraps each line; the proxy\'s JSON record is in "log"',
        '[FILTER]',
        '    Name          parser',
        '    Match         vigil.istio.*',
        '    Key_Name      log',
        '    Parser        vigil_istio_json',
        '    Reserve_Data  Off',
        '',
        '# keep access-log records only (Envoy\'s own log lines are not JSON)',
        '[FILTER]',
        '    Name    grep',
        '    Match   vigil.istio.*',
        '    Regex   start_time .+',
        '',
        '[OUTPUT]',
        '    Name            http',
        '    Match           vigil.istio.*',
        `    Host            ${t.host}`,
        `    Port            ${t.port}`,
        `    URI             ${t.base}/v1/traces`,
        '    Format          json',
        '    Json_Date_Key   false',
        `    Header          Authorization Bearer ${token}`,
        '    compress        gzip',
    ];
    if (t.tls) {
        lines.push('    tls             On', '    tls.verify      On');
    } else {
        lines.push('    tls             Off');
    }
    lines.push('    Retry_Limit     5');
    return lines.join('\n');
}

// APIClarity telemetry objects (the format of its Envoy trace filter) to the same endpoint.
export function apiClaritySnippet({ url, token }) {
    const t = ingestTarget(url);
    const example = {
        requestID: 'c7d6e1f0-0c6a-4f5e-9d0b-3f1c2a7b9e11',
        scheme: 'http',
        destinationAddress: '10.244.1.17:8080',
        destinationNamespace: 'shop',
        sourceAddress: '10.244.2.9:51724',
        request: {
            method: 'GET',
            path: '/users/42',
            host: 'users.shop.svc.cluster.local',
            common: {
                headers: [{ key: 'authorization', value: 'Bearer <redacted>' }],
                body: '',
                time: 1732600000000,
            },
        },
        response: {
            statusCode: '200',
            common: {
                headers: [{ key: 'content-type', value: 'application/json' }],
                body: 'eyJpZCI6NDIsIm5hbWUiOiJBZGEifQ==',
                time: 1732600000031,
            },
        },
    };
    return [
        '# APIClarity: send its telemetry objects (one per request/response pair) as a JSON',
        '# array or NDJSON, bodies base64-encoded, with the cluster\'s ingest token. Point the',
        '# component that receives the trace filter\'s exports (or a relay next to it) at:',
        `#   POST ${t.origin}${t.base}/v1/traces`,
        '# Try it:',
        `curl -sS ${t.origin}${t.base}/v1/traces \\`,
        `  -H 'Authorization: Bearer ${token}' \\`,
        '  -H \'Content-Type: application/json\' \\',
        '  --data-binary @- <<\'EOF\'',
        JSON.stringify([example], null, 2),
        'EOF',
    ].join('\n');
}

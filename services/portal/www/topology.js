// The topology view: who calls whom (edges grouped by destination), the third-party hosts
// with their calling workloads, and the generated least-privilege AuthorizationPolicies.
// API data is only inserted as text.

import { api } from './api.js';
import { $, badge, busy, copyFrom, el, formatTime, labelCells } from './ui.js';
import { toYaml } from './yaml.js';

const num = (value) => (value === undefined || value === null ? '–'
    : Number(value).toLocaleString('en-US'));

function percent(rate) {
    const value = Number(rate) || 0;
    return `${(value * 100).toFixed(value > 0 && value < 0.01 ? 2 : 1)}%`;
}

function ms(value) {
    return value === undefined || value === null ? '–' : `${Number(value)} ms`;
}

function edgeRow(edge) {
    const rate = Number(edge.error_rate) || 0;
    const latency = edge.latency_ms || {};
    return el('tr', {},
        el('th', { scope: 'row', class: 'mono', text: edge.source || '' }),
        el('td', {}, badge(edge.class || 'unknown', `class-${edge.class || 'unknown'}`)),
        el('td', { class: 'num', text: num(edge.calls) }),
        el('td', { class: `num${rate >= 0.02 ? ' bad' : ''}`, text: percent(rate) }),
        el('td', { class: 'num', text: ms(latency.p50) }),
        el('td', { class: 'num', text: ms(latency.p99) }),
        el('td', { text: formatTime(edge.last_seen) }));
}

function edgeTable(destination, edges) {
    const calls = edges.reduce((sum, e) => sum + (Number(e.calls) || 0), 0);
    const id = `topo-dest-${destination.replace(/[^\w-]+/g, '_')}`;
    const table = el('table', { class: 'table', 'aria-labelledby': id },
        el('thead', {}, el('tr', {},
            ...['Caller', 'Class', 'Calls', 'Error rate', 'p50', 'p99', 'Last seen'].map(
                (name, i) => el('th', { scope: 'col', class: i >= 2 && i <= 5 ? 'num' : null,
                    text: name })))),
        el('tbody', {}, ...edges.map(edgeRow)));
    labelCells(table);
    return el('div', { class: 'topo-group' },
        el('h3', { id },
            el('span', { class: 'mono', text: destination }),
            el('span', { class: 'topo-sum', text: ` ${edges.length} caller`
                + `${edges.length === 1 ? '' : 's'} · ${num(calls)} calls` })),
        table);
}

function renderEdges(edges) {
    const groups = new Map();
    for (const edge of edges) {
        const key = edge.destination || '';
        if (!groups.has(key)) {
            groups.set(key, []);
        }
        groups.get(key).push(edge);
    }
    const sorted = [...groups.keys()].sort();
    $('topo-edges').replaceChildren(...sorted.map((d) => edgeTable(d,
        groups.get(d).sort((a, b) => (Number(b.calls) || 0) - (Number(a.calls) || 0)))));
    $('topo-edges-empty').hidden = edges.length > 0;
}

function renderHosts(hosts) {
    const body = $('topo-hosts-table').querySelector('tbody');
    body.replaceChildren(...hosts.map((h) => el('tr', {},
        el('th', { scope: 'row', class: 'mono', text: h.host || '' }),
        el('td', {}, el('ul', { class: 'plain-list mono' },
            ...(Array.isArray(h.callers) ? h.callers : []).map((c) => el('li', { text: c })))),
        el('td', {}, h.plaintext ? badge('plaintext HTTP', 'high') : badge('TLS', 'ok')),
        el('td', { class: 'num', text: num(h.calls) }),
        el('td', { text: formatTime(h.last_seen) }))));
    labelCells($('topo-hosts-table'));
    $('topo-hosts-table').hidden = hosts.length === 0;
    $('topo-hosts-empty').hidden = hosts.length > 0;
}

function policyCard(policy, index) {
    const preId = `topo-policy-${index}`;
    const titleId = `${preId}-title`;
    const copy = el('button', { type: 'button', class: 'btn btn-small',
        'aria-label': `Copy the AuthorizationPolicy of ${policy.service}`, text: 'Copy YAML' });
    copy.addEventListener('click', () => copyFrom(preId, copy));
    const callers = Number(policy.callers) || 0;
    return el('div', { class: 'topo-policy' },
        el('h3', { id: titleId },
            el('span', { class: 'mono', text: policy.service || '' }),
            el('span', { class: 'topo-sum', text: ` ${callers} allowed caller${callers === 1
                ? '' : 's'} · updated ${formatTime(policy.updated_at)}` })),
        el('div', { class: 'code-block' },
            el('div', { class: 'code-tools' }, copy),
            el('pre', { id: preId, tabindex: '0', 'aria-labelledby': titleId,
                text: toYaml(policy.policy || {}) })));
}

function renderPolicies(policies) {
    $('topo-policies').replaceChildren(...policies.map(policyCard));
    $('topo-policies-empty').hidden = policies.length > 0;
}

export function loadTopology() {
    return busy($('view-topology'), async () => {
        const data = await api('GET', '/topology');
        const list = (key) => (data && Array.isArray(data[key]) ? data[key] : []);
        const edges = list('edges');
        const hosts = list('outbound_hosts');
        const policies = list('policies');
        $('topo-count-services').textContent = num(list('nodes').length);
        $('topo-count-edges').textContent = num(edges.length);
        $('topo-count-hosts').textContent = num(hosts.length);
        $('topo-count-plaintext').textContent = num(hosts.filter((h) => h.plaintext).length);
        renderEdges(edges);
        renderHosts(hosts);
        renderPolicies(policies);
    });
}

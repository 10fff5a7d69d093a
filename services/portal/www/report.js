// The report view: the counts of the tenant's latest report (GET /api/v1/report) and a link
// to its HTML form (report.html, sent with the session cookie). 404 until one is built.

import { ApiError, api } from './api.js';
import { $, badge, busy, el, formatTime, sentence } from './ui.js';

const SEVERITIES = ['critical', 'high', 'medium', 'low', 'info'];

function countList(items, key) {
    const rows = (Array.isArray(items) ? items : []).map((item) => el('li', {},
        el('span', { class: 'count-name', text: item[key] || '(none)' }),
        el('span', { class: 'count-n', text: String(item.count ?? 0) })));
    return rows.length ? rows : [el('li', { class: 'muted', text: 'No open finding.' })];
}

function objectText(object) {
    if (!object || typeof object !== 'object') {
        return '';
    }
    return ['kind', 'namespace', 'name', 'service', 'method', 'path']
        .map((k) => object[k]).filter(Boolean).join(' ');
}

function render(report) {
    const data = (report && report.data) || {};
    $('report-generated').textContent = formatTime(report.generated_at || data.generated_at);
    const totals = data.totals || {};
    for (const key of ['open', 'resolved', 'suppressed']) {
        $(`report-total-${key}`).textContent = String(totals[key] ?? '–');
    }
    const sev = data.by_severity || {};
    $('report-severity').replaceChildren(...SEVERITIES.map((s) => el('li', {},
        badge(s), el('span', { class: 'count-n', text: String(sev[s] ?? 0) }))));
    $('report-category').replaceChildren(...countList(data.by_category, 'category'));
    $('report-cluster').replaceChildren(...countList(data.by_cluster, 'cluster'));
    const risks = Array.isArray(data.top_risks) ? data.top_risks : [];
    $('report-risks').replaceChildren(...risks.map((r) => el('li', {},
        badge(r.severity || 'info'),
        el('span', { class: 'cell-title', text: r.title || r.rule_id || '' }),
        el('span', { class: 'cell-note mono', text: [r.rule_id, r.category, objectText(r.object)]
            .filter(Boolean).join(' · ') }))));
    $('report-risks-empty').hidden = risks.length > 0;
}

export function loadReport() {
    return busy($('view-report'), async () => {
        $('report-missing').hidden = true;
        try {
            const report = await api('GET', '/report');
            render(report);
            $('report-body').hidden = false;
            $('report-open').hidden = false;
        } catch (err) {
            if (err instanceof ApiError && err.status === 404) {
                $('report-body').hidden = true;
                $('report-open').hidden = true;    // report.html would be the same 404
                $('report-missing-text').textContent = sentence(err.message);
                $('report-missing').hidden = false;
                return;
            }
            throw err;
        }
    });
}

// The notifications view: signed webhooks and email recipients that receive findings.

import { api, itemsOf } from './api.js';
import {
    $, announce, badge, checkForm, clearAlert, el, field, formatTime, labelCells, showOk,
    withBusy,
} from './ui.js';

let reportError = (err) => { throw err; };

export async function loadNotifications() {
    hideWebhookSecret();
    await Promise.all([loadWebhooks(), loadRecipients()]);
}

// The webhook secret is shown once, until the user leaves the view.
export function hideWebhookSecret() {
    $('webhook-secret').value = '';
    $('webhook-created').hidden = true;
}

// ---------------------------------------------------------------------------- webhooks

async function loadWebhooks() {
    const hooks = itemsOf(await api('GET', '/webhooks'), 'webhooks');
    const table = $('webhooks-table');
    table.tBodies[0].replaceChildren(...hooks.map(webhookRow));
    labelCells(table);
    table.hidden = hooks.length === 0;
    $('webhooks-empty').hidden = hooks.length > 0;
}

function webhookRow(hook) {
    const test = el('button', { type: 'button', class: 'btn btn-small', text: 'Send test',
        'aria-label': `Send a test delivery to ${hook.url}` });
    test.addEventListener('click', () => testWebhook(hook, test));
    const remove = el('button', { type: 'button', class: 'btn btn-small btn-danger',
        text: 'Remove', 'aria-label': `Remove webhook ${hook.url}` });
    remove.addEventListener('click', () => removeWebhook(hook, remove));
    return el('tr', {},
        el('th', { scope: 'row', class: 'mono', text: hook.url }),
        el('td', {}, badge(hook.enabled === false ? 'disabled' : 'enabled',
            hook.enabled === false ? 'neutral' : 'ok')),
        el('td', { text: formatTime(hook.created_at) }),
        el('td', { class: 'actions' }, test, remove));
}

async function onWebhookCreate(event) {
    event.preventDefault();
    clearAlert();
    const form = event.currentTarget;
    const ok = checkForm(form, (input) => {
        if (input.name === 'url' && input.value && !/^https?:\/\/\S+$/i.test(input.value)) {
            return 'The webhook URL must start with https:// (or http://).';
        }
        if (input.name === 'secret' && input.value && input.value.length < 16) {
            return 'A webhook secret must have at least 16 characters.';
        }
        return '';
    });
    if (!ok) {
        return;
    }
    const body = { url: field(form, 'url').value.trim() };
    if (field(form, 'secret').value) {
        body.secret = field(form, 'secret').value;
    }
    await withBusy(form.querySelector('button[type=submit]'), async () => {
        try {
            const hook = await api('POST', '/webhooks', body);
            form.reset();
            $('webhook-secret').value = hook.secret || '';
            $('webhook-created').hidden = false;
            showOk(`Webhook ${hook.url} added. Its signing secret is shown below, once.`);
            await loadWebhooks();
        } catch (err) {
            reportError(err);
        }
    });
}

async function testWebhook(hook, button) {
    clearAlert();
    await withBusy(button, async () => {
        try {
            await api('POST', `/webhooks/${encodeURIComponent(hook.id)}/test`, {});
            showOk(`A test delivery to ${hook.url} was queued.`);
        } catch (err) {
            reportError(err);
        }
    });
}

async function removeWebhook(hook, button) {
    clearAlert();
    if (!window.confirm(`Stop sending findings to ${hook.url}?`)) {
        return;
    }
    await withBusy(button, async () => {
        try {
            await api('DELETE', `/webhooks/${encodeURIComponent(hook.id)}`);
            showOk(`Webhook ${hook.url} was removed.`);
            await loadWebhooks();
        } catch (err) {
            reportError(err);
        }
    });
}

// ---------------------------------------------------------------------------- email

async function loadRecipients() {
    const people = itemsOf(await api('GET', '/email-recipients'), 'recipients');
    const table = $('recipients-table');
    table.tBodies[0].replaceChildren(...people.map(recipientRow));
    labelCells(table);
    table.hidden = people.length === 0;
    $('recipients-empty').hidden = people.length > 0;
}

function recipientRow(person) {
    const remove = el('button', { type: 'button', class: 'btn btn-small btn-danger',
        text: 'Remove', 'aria-label': `Remove recipient ${person.email}` });
    remove.addEventListener('click', () => removeRecipient(person, remove));
    return el('tr', {},
        el('th', { scope: 'row', text: person.email }),
        el('td', {}, person.unsubscribed ? badge('unsubscribed', 'neutral')
            : badge('subscribed', 'ok')),
        el('td', { text: formatTime(person.created_at) }),
        el('td', { class: 'actions' }, remove));
}

async function onRecipientCreate(event) {
    event.preventDefault();
    clearAlert();
    const form = event.currentTarget;
    if (!checkForm(form)) {
        return;
    }
    const email = field(form, 'email').value.trim();
    await withBusy(form.querySelector('button[type=submit]'), async () => {
        try {
            await api('POST', '/email-recipients', { email });
            form.reset();
            showOk(`${email} will receive findings by email.`);
            await loadRecipients();
        } catch (err) {
            reportError(err);
        }
    });
}

async function removeRecipient(person, button) {
    clearAlert();
    await withBusy(button, async () => {
        try {
            await api('DELETE', `/email-recipients/${encodeURIComponent(person.id)}`);
            announce(`${person.email} removed.`);
            showOk(`${person.email} will no longer receive findings.`);
            await loadRecipients();
        } catch (err) {
            reportError(err);
        }
    });
}

// onError: how the page reports a failed call (a 401 ends the session).
export function wireNotifications(onError) {
    reportError = onError;
    $('webhook-form').addEventListener('submit', onWebhookCreate);
    $('recipient-form').addEventListener('submit', onRecipientCreate);
}

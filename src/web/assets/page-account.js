// Account: two-factor sign-in (TOTP). Off: set it up (a new secret as an otpauth:// link and
// as text to type, ten recovery codes shown once, then a first code to turn it on). On: how
// many recovery codes are left, and turning it off with a code. A role that must use it lands
// here after login and reaches nothing else until it is on.

import { h, replace, loading, errorBox, errorText, field, badge, pageHeader, toast } from './dom.js';

const STATE_BADGE = { off: ['off', 'muted'], pending: ['pending', 'warn'], enabled: ['on', 'ok'] };

function grouped(secret) {
  return secret.replace(/(.{4})/g, '$1 ').trim();
}

function codeInput(id) {
  return h('input', { id, name: id, autocomplete: 'one-time-code', inputmode: 'numeric', spellcheck: 'false', size: 12 });
}

/** A form with one code field whose submit runs `action(value)`; errors show under it. */
function codeForm(id, label, buttonText, action) {
  const input = codeInput(`${id}-code`);
  const error = h('p', { class: 'form-error', role: 'alert', id: `${id}-error` });
  const submit = h('button', { type: 'submit', class: 'primary', id: `${id}-submit` }, buttonText);
  const form = h('form', { id, class: 'inline-form', novalidate: true },
    field(label, input, 'The 6 digits your app shows now'), submit, error);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    error.textContent = '';
    submit.disabled = true;
    try {
      await action(input.value.trim());
    } catch (failure) {
      error.textContent = errorText(failure);
      submit.disabled = false;
      input.select();
    }
  });
  return form;
}

function enrolmentView(enrolment, ctx, done) {
  const uri = enrolment.otpauth_uri;
  return h('div', { id: 'totp-enrolment', class: 'card' },
    h('h2', null, '1. Add the account to your authenticator app'),
    h('p', null, 'On the phone, open ', h('a', { href: uri, id: 'totp-uri' }, 'this otpauth:// link'),
      ', or type the secret into the app (time-based, 6 digits, 30 s):'),
    h('p', null, h('code', { id: 'totp-secret', class: 'secret' }, grouped(enrolment.secret))),
    h('details', null, h('summary', null, 'The full URI'), h('code', { class: 'secret' }, uri)),
    h('h2', null, '2. Keep the recovery codes'),
    h('p', null, 'Each works once instead of a code, if the phone is lost. They are shown only now.'),
    h('ol', { id: 'totp-recovery', class: 'recovery-codes' }, enrolment.recovery_codes.map((code) => h('li', null, h('code', null, code)))),
    h('h2', null, '3. Turn it on'),
    codeForm('totp-confirm', 'Code from the app', 'Turn on', async (code) => {
      await ctx.api.post('/api/auth/totp/confirm', { code });
      toast('Two-factor sign-in is on.', 'success');
      done();
    }));
}

async function render(content, ctx) {
  const me = await ctx.api.get('/api/auth/me');
  const [label, kind] = STATE_BADGE[me.totp] || [me.totp, 'muted'];
  const rerender = () => render(content, ctx).catch((error) => replace(content, errorBox(error, rerender)));
  const intro = [
    h('p', null, 'Two-factor sign-in: ', badge(label, kind), me.totp_required ? ' · required for your role' : ''),
    me.totp_enrolment_due ? h('p', { class: 'notice', id: 'totp-due' }, `Your role (${me.role}) must use two-factor sign-in: set it up to reach the rest of the dashboard.`) : null,
  ];
  if (me.totp === 'enabled') {
    ctx.enrolmentDone();
    replace(content, h('section', { id: 'totp', dataset: { state: me.totp } }, intro,
      h('p', { id: 'totp-recovery-left' }, `${me.recovery_codes_left} unused recovery codes left.`),
      codeForm('totp-disable', 'Code from the app (or a recovery code)', 'Turn off', async (code) => {
        const proof = /^[0-9]+$/.test(code) ? { totp_code: code } : { recovery_code: code };
        await ctx.api.post('/api/auth/totp/disable', proof);
        toast('Two-factor sign-in is off.', 'info');
        rerender();
      })));
    return;
  }
  const start = h('button', { type: 'button', class: 'primary', id: 'totp-start' },
    me.totp === 'pending' ? 'Start again with a new secret' : 'Set up two-factor sign-in');
  const area = h('div');
  start.addEventListener('click', async () => {
    start.disabled = true;
    try {
      const enrolment = await ctx.api.post('/api/auth/totp', {});
      replace(area, enrolmentView(enrolment, ctx, rerender));
      start.remove();
    } catch (error) {
      replace(area, errorBox(error));
      start.disabled = false;
    }
  });
  replace(content, h('section', { id: 'totp', dataset: { state: me.totp } }, intro, start, area));
}

export default {
  id: 'account',
  title: 'Account',
  nav: true,
  role: 'viewer',
  route: /^account$/,

  async mount(root, ctx) {
    const content = h('div', null, loading('Loading your account…'));
    root.append(pageHeader(`Account · ${ctx.session.username}`), content);
    try {
      await render(content, ctx);
    } catch (error) {
      replace(content, errorBox(error, () => ctx.navigate('account')));
      root.dataset.state = 'error';
      return () => {};
    }
    root.dataset.state = 'ready';
    return () => {};
  },
};

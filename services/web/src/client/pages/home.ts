import type { Page } from '../lib/context.js';
import { h } from '../lib/dom.js';

export const page: Page = (root, ctx) => {
  const { m } = ctx;
  ctx.setTitle(m.home.title);
  const card = (path: string, title: string, text: string, primary = false) =>
    h(
      'a',
      { href: path, 'data-link': '', class: primary ? 'card primary' : 'card' },
      h('span', { class: 'card-title' }, title),
      h('span', { class: 'card-text' }, text),
    );
  const me = ctx.me();
  root.append(
    h('h1', {}, m.home.title),
    h('p', { class: 'lead' }, m.home.intro),
    h(
      'div',
      { class: 'cards' },
      me ? card('/me', m.common.myPage, me.user.displayName, true) : card('/login', m.common.signIn, m.home.signInHelp, true),
      card('/kiosk', m.common.kiosk, m.home.kioskHelp),
      card('/register', m.common.register, m.home.registerHelp),
    ),
  );
};

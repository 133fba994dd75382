/* indicator.js — the panel button and its menu: own presence and a badge in
 * the panel; the account, an ongoing call, the presence switch, contacts,
 * friend requests and groups in the menu.
 *
 * Like client.js, it takes its imports as parameters (see extension.js).
 * The menu is kept in step with the client incrementally, item by item, so
 * that a message being typed in a quick-reply entry survives a roster change.
 */

/* exported defineIndicator */

/** @param {import('./shell-deps.js').ShellDeps} deps the imports (shell-deps.d.ts) */
function defineIndicator({GObject, GLib, St, Clutter, PanelMenu, PopupMenu, _, ngettext}) {
    const PRESENCES = ['online', 'away', 'busy', 'dnd', 'invisible'];
    /* Contacts: online first, then the others, then offline; by name within. */
    const PRESENCE_ORDER = {online: 0, away: 1, busy: 2, dnd: 3};

    function presenceName(presence) {
        switch (presence) {
        case 'online': return _('Online');
        case 'away': return _('Away');
        case 'busy': return _('Busy');
        case 'dnd': return _('Do not disturb');
        case 'invisible': return _('Invisible');
        /* Translators: a friend's presence while we are not connected */
        case 'unknown': return _('Unknown');
        default: return _('Offline');
        }
    }

    /* Account.StateReasonCode values after which only a new login helps */
    const LOGGED_OUT_REASONS = ['not-logged-in', 'logged-out', 'account-deleted',
        'token-revoked', 'token-refused'];

    function accountStateText(account) {
        switch (account.state) {
        case 'connecting': return _('Connecting…');
        case 'authenticating': return _('Logging in…');
        case 'reconnecting': return _('Reconnecting…');
        case 'online': return presenceName(account.presence);
        default:
            /* Translators: "voipctl login" is a command, not to be translated */
            return account.username === '' || LOGGED_OUT_REASONS.includes(account.stateReasonCode)
                ? _('Not logged in (use voipctl login)')
                : _('Offline');
        }
    }

    function presenceDot(presence) {
        return new St.Widget({
            style_class: `voip-presence-dot voip-presence-${presence in PRESENCE_ORDER || presence === 'invisible' ? presence : 'offline'}`,
            y_align: Clutter.ActorAlign.CENTER,
        });
    }

    function setDot(dot, presence) {
        dot.style_class = presenceDot(presence).style_class;
    }

    function iconButton(iconName, accessibleName, callback) {
        const button = new St.Button({
            style_class: 'voip-icon-button button',
            child: new St.Icon({icon_name: iconName, style_class: 'popup-menu-icon'}),
            accessible_name: accessibleName,
            can_focus: true,
            y_align: Clutter.ActorAlign.CENTER,
        });
        button.connect('clicked', callback);
        return button;
    }

    function textButton(label, callback) {
        const button = new St.Button({
            style_class: 'voip-text-button button',
            label,
            can_focus: true,
            y_align: Clutter.ActorAlign.CENTER,
        });
        button.connect('clicked', callback);
        return button;
    }

    /* Rows that are content, not commands: reactive (St greys out what is
     * not) but never activated. */
    const CONTENT_ROW = {activate: false, hover: false, can_focus: false};

    function plainItem(text) {
        return new PopupMenu.PopupMenuItem(text, CONTENT_ROW);
    }

    function formatDuration(seconds) {
        const h = Math.floor(seconds / 3600);
        const m = Math.floor(seconds / 60) % 60;
        const s = seconds % 60;
        const pad = n => String(n).padStart(2, '0');
        return h > 0 ? `${h}:${pad(m)}:${pad(s)}` : `${pad(m)}:${pad(s)}`;
    }

    /* ---- a friend: name, presence, unread, call button; a quick reply inside ---- */

    const ContactItem = GObject.registerClass(
    class VoipContactItem extends PopupMenu.PopupSubMenuMenuItem {
        _init(client, contact, reportError) {
            super._init('', false);
            this._client = client;
            this._reportError = reportError;
            this.path = contact.path;

            this._dot = presenceDot(contact.presence);
            this.insert_child_at_index(this._dot, 1);
            this._presenceLabel = new St.Label({
                style_class: 'voip-contact-presence',
                y_align: Clutter.ActorAlign.CENTER,
            });
            this.insert_child_above(this._presenceLabel, this.label);
            this._unreadLabel = new St.Label({
                style_class: 'voip-badge voip-contact-unread',
                y_align: Clutter.ActorAlign.CENTER,
            });
            /* _triangleBin, _getTopMenu(), _onDestroy(): the Shell's own, in 43 to 48
             * alike, but private, so not in @girs/gnome-shell's types */
            // @ts-expect-error private Shell API (43-48)
            this.insert_child_below(this._unreadLabel, this._triangleBin);
            /* Translators: the accessible name of a button that calls a contact */
            this._callButton = iconButton('call-start-symbolic', _('Call'), () => {
                this._client.call(this.path).catch(e =>
                    this._reportError(_('Cannot call %s').format(this.username), e));
                // @ts-expect-error private Shell API (43-48)
                this._getTopMenu()?.close();
            });
            // @ts-expect-error private Shell API (43-48)
            this.insert_child_below(this._callButton, this._triangleBin);

            this._openItem = new PopupMenu.PopupImageMenuItem(_('Open conversation'),
                'mail-message-new-symbolic');
            this._openItem.connect('activate', () =>
                this._client.openConversation(this.path).catch(e =>
                    this._reportError(_('Cannot open the conversation'), e)));
            this.menu.addMenuItem(this._openItem);

            /* the quick reply */
            const entryItem = new PopupMenu.PopupBaseMenuItem({reactive: false, can_focus: false});
            this._entry = new St.Entry({
                style_class: 'voip-reply-entry',
                can_focus: true,
                x_expand: true,
            });
            this._entry.clutter_text.connect('activate', () => this._send());
            entryItem.add_child(this._entry);
            this.menu.addMenuItem(entryItem);
            this._status = plainItem('');
            this._status.hide();
            this.menu.addMenuItem(this._status);

            this.update(contact);
        }

        update(contact) {
            this.username = contact.username;
            this.presence = contact.presence;
            this.label.text = contact.displayName || contact.username;
            this._presenceLabel.text = presenceName(contact.presence);
            setDot(this._dot, contact.presence);
            this._unreadLabel.text = String(contact.unread);
            this._unreadLabel.visible = contact.unread > 0;
            this._callButton.reactive = contact.presence in PRESENCE_ORDER;
            this._entry.hint_text = _('Message to %s…').format(this.label.text);
        }

        _send() {
            const text = this._entry.text.trim();
            if (text === '')
                return;
            this._entry.reactive = false;
            this._client.sendMessage(this.path, text).then(() => {
                this._entry.text = '';
                this._status.label.text = _('Sent');
            }).catch(e => {
                this._status.label.text = _('Not sent: %s').format(e.message);
            }).finally(() => {
                this._entry.reactive = true;
                this._status.show();
            });
        }
    });

    /* ---- a friend request: accept/deny, or withdraw ours ---- */

    const RequestItem = GObject.registerClass(
    class VoipRequestItem extends PopupMenu.PopupBaseMenuItem {
        _init(client, contact, reportError) {
            super._init(CONTENT_ROW);
            this.path = contact.path;
            this.label = new St.Label({x_expand: true, y_align: Clutter.ActorAlign.CENTER});
            this.add_child(this.label);
            this._buttons = new St.BoxLayout({style_class: 'voip-buttons'});
            this.add_child(this._buttons);
            this._client = client;
            this._reportError = reportError;
            this.update(contact);
        }

        update(contact) {
            if (this.subscription === contact.subscription && this.username === contact.username)
                return;
            this.username = contact.username;
            this.subscription = contact.subscription;
            this._buttons.destroy_all_children();
            const fail = what => e => this._reportError(what, e);
            if (contact.subscription === 'incoming') {
                this.label.text = _('%s wants to be your friend').format(contact.username);
                this._buttons.add_child(textButton(_('Accept'), () =>
                    this._client.acceptContact(this.path).catch(fail(_('Cannot accept')))));
                this._buttons.add_child(textButton(_('Deny'), () =>
                    this._client.denyContact(this.path).catch(fail(_('Cannot deny')))));
            } else {
                this.label.text = _('Asked %s to be your friend').format(contact.username);
                this._buttons.add_child(textButton(_('Withdraw'), () =>
                    this._client.denyContact(this.path).catch(fail(_('Cannot withdraw')))));
            }
        }
    });

    /* ---- a group: name, members, call button ---- */

    const GroupItem = GObject.registerClass(
    class VoipGroupItem extends PopupMenu.PopupBaseMenuItem {
        _init(client, group, reportError) {
            super._init(CONTENT_ROW);
            this.path = group.path;
            this.label = new St.Label({x_expand: true, y_align: Clutter.ActorAlign.CENTER});
            this.add_child(this.label);
            this._unreadLabel = new St.Label({
                style_class: 'voip-badge voip-contact-unread',
                y_align: Clutter.ActorAlign.CENTER,
            });
            this.add_child(this._unreadLabel);
            this._openButton = iconButton('mail-message-new-symbolic', _('Open conversation'), () => {
                client.openConversation(this.path).catch(e =>
                    reportError(_('Cannot open the conversation'), e));
                // @ts-expect-error private Shell API (43-48)
                this._getTopMenu()?.close();
            });
            this.add_child(this._openButton);
            this.add_child(iconButton('call-start-symbolic', _('Call'), () => {
                client.call(this.path).catch(e =>
                    reportError(_('Cannot call %s').format(this.name), e));
                // @ts-expect-error private Shell API (43-48)
                this._getTopMenu()?.close();
            }));
            this.update(group);
        }

        update(group) {
            this.name = group.name;
            this.label.text = `${group.name}  ·  ${ngettext('%d member', '%d members',
                group.members.length).format(group.members.length)}`;
            this._unreadLabel.text = String(group.unread);
            this._unreadLabel.visible = group.unread > 0;
        }
    });

    /* Keeps a section's items in step with a list of objects keyed by path,
     * in the list's order (a submenu's box follows its item). */
    function syncSection(section, items, objects, create) {
        const wanted = new Set(objects.map(o => o.path));
        for (const [path, item] of items) {
            if (!wanted.has(path)) {
                item.destroy();
                items.delete(path);
            }
        }
        for (const object of objects) {
            let item = items.get(object.path);
            if (item) {
                item.update(object);
            } else {
                item = create(object);
                items.set(object.path, item);
                section.addMenuItem(item);
            }
            section.box.set_child_above_sibling(item.actor, null);
            if (item.menu)
                section.box.set_child_above_sibling(item.menu.actor, null);
        }
    }

    /* ---- the panel button ---- */

    const Indicator = GObject.registerClass(
    class VoipIndicator extends PanelMenu.Button {
        _init(client, reportError) {
            super._init(0.0, _('Voice calls and chat'));
            this._client = client;
            this._reportError = reportError;

            const box = new St.BoxLayout({style_class: 'panel-status-menu-box voip-panel-box'});
            this._dot = presenceDot('offline');
            box.add_child(this._dot);
            this._presenceLabel = new St.Label({
                text: presenceName('offline'),
                y_align: Clutter.ActorAlign.CENTER,
            });
            box.add_child(this._presenceLabel);
            this._badge = new St.Label({
                style_class: 'voip-badge voip-panel-badge',
                y_align: Clutter.ActorAlign.CENTER,
                visible: false,
            });
            box.add_child(this._badge);
            this.add_child(box);

            this._buildMenu();
            this._changedId = client.connect('changed', () => this.sync());
            this._menu.connect('open-state-changed', (menu, open) => {
                /* the menu shows the missed calls; having seen them clears the badge part */
                if (!open)
                    this._client.clearMissedCalls();
                return false;   /* let other handlers run (Signals stops at true) */
            });
            this._timerId = 0;
            this.sync();
        }

        _buildMenu() {
            /* made with its menu: a PopupMenu, not a PopupDummyMenu */
            this._menu = /** @type {InstanceType<typeof PopupMenu.PopupMenu>} */ (this.menu);
            /* the account */
            this._accountItem = plainItem('');
            this._accountItem.label.style_class = 'voip-account';
            this._menu.addMenuItem(this._accountItem);
            this._missedItem = plainItem('');
            this._menu.addMenuItem(this._missedItem);

            /* an ongoing call */
            this._callSection = new PopupMenu.PopupMenuSection();
            this._callItem = plainItem('');
            this._callItem.label.style_class = 'voip-call-title';
            this._callSection.addMenuItem(this._callItem);
            this._muteItem = new PopupMenu.PopupSwitchMenuItem(_('Mute microphone'), false);
            this._muteItem.connect('toggled', (item, state) => {
                if (this._callPath) {
                    this._client.setMuted(this._callPath, state).catch(e =>
                        this._reportError(_('Cannot mute'), e));
                }
            });
            this._callSection.addMenuItem(this._muteItem);
            this._hangupItem = new PopupMenu.PopupImageMenuItem(_('Hang up'), 'call-stop-symbolic');
            this._hangupItem.connect('activate', () => {
                if (this._callPath) {
                    this._client.hangup(this._callPath).catch(e =>
                        this._reportError(_('Cannot hang up'), e));
                }
            });
            this._callSection.addMenuItem(this._hangupItem);
            this._openCallItem = new PopupMenu.PopupImageMenuItem(_('Open call'), 'camera-video-symbolic');
            this._openCallItem.connect('activate', () => {
                if (this._callPath) {
                    this._client.openCall(this._callPath).catch(e =>
                        this._reportError(_('Cannot open the call'), e));
                }
            });
            this._callSection.addMenuItem(this._openCallItem);
            this._menu.addMenuItem(this._callSection);

            /* the presence switch */
            this._menu.addMenuItem(new PopupMenu.PopupSeparatorMenuItem());
            this._presenceMenu = new PopupMenu.PopupSubMenuMenuItem('', false);
            this._presenceItems = new Map();
            for (const presence of PRESENCES) {
                const item = new PopupMenu.PopupMenuItem(presenceName(presence));
                item.insert_child_at_index(presenceDot(presence), 1);
                item.connect('activate', () =>
                    this._client.setPresence(presence).catch(e =>
                        this._reportError(_('Cannot change the presence'), e)));
                this._presenceMenu.menu.addMenuItem(item);
                this._presenceItems.set(presence, item);
            }
            this._menu.addMenuItem(this._presenceMenu);

            /* contacts, requests, groups */
            this._contactsTitle = new PopupMenu.PopupSeparatorMenuItem(_('Contacts'));
            this._menu.addMenuItem(this._contactsTitle);
            this._noContactsItem = new PopupMenu.PopupMenuItem(_('No contacts yet'), {reactive: false});
            this._menu.addMenuItem(this._noContactsItem);
            this._contactsSection = new PopupMenu.PopupMenuSection();
            this._menu.addMenuItem(this._contactsSection);
            this._contactItems = new Map();

            this._requestsTitle = new PopupMenu.PopupSeparatorMenuItem(_('Friend requests'));
            this._menu.addMenuItem(this._requestsTitle);
            this._requestsSection = new PopupMenu.PopupMenuSection();
            this._menu.addMenuItem(this._requestsSection);
            this._requestItems = new Map();

            this._groupsTitle = new PopupMenu.PopupSeparatorMenuItem(_('Groups'));
            this._menu.addMenuItem(this._groupsTitle);
            this._groupsSection = new PopupMenu.PopupMenuSection();
            this._menu.addMenuItem(this._groupsSection);
            this._groupItems = new Map();
        }

        sync() {
            const client = this._client;
            const account = client.account;
            const online = account.running && account.state === 'online';
            const presence = online ? account.presence : 'offline';

            /* the panel */
            setDot(this._dot, presence);
            this._presenceLabel.text = presenceName(presence);
            const badge = client.unread + client.missedCalls;
            this._badge.text = String(badge);
            this._badge.visible = badge > 0;

            /* the account */
            if (!account.running) {
                this._accountItem.label.text = _('The voip service is not running');
            } else {
                const who = account.displayName && account.displayName !== account.username
                    ? `${account.displayName} (${account.username})` : account.username;
                let text = account.username !== '' ? `${who} — ${accountStateText(account)}`
                    : accountStateText(account);
                /* why, unless it is what the state says already */
                if (account.state !== 'online' && account.stateReason !== '' &&
                    account.stateReasonCode !== 'not-logged-in')
                    text += ` (${account.stateReason})`;
                this._accountItem.label.text = text;
            }
            this._missedItem.label.text = ngettext('%d missed call', '%d missed calls',
                client.missedCalls).format(client.missedCalls);
            this._missedItem.visible = client.missedCalls > 0;

            /* the presence switch */
            /* Translators: %s is a presence: Online, Away, Busy… */
            this._presenceMenu.label.text = _('Presence: %s').format(presenceName(presence));
            this._presenceMenu.visible = online;
            for (const [p, item] of this._presenceItems)
                item.setOrnament(p === presence ? PopupMenu.Ornament.DOT : PopupMenu.Ornament.NONE);

            /* friends, online first */
            const contacts = client.contacts;
            const friends = contacts.filter(c => c.subscription === 'friend').sort((a, b) =>
                (PRESENCE_ORDER[a.presence] ?? 9) - (PRESENCE_ORDER[b.presence] ?? 9) ||
                (a.displayName || a.username).localeCompare(b.displayName || b.username));
            syncSection(this._contactsSection, this._contactItems, friends,
                /* @girs types the constructor of the GObject class, not _init() */
                // @ts-expect-error
                c => new ContactItem(client, c, this._reportError));
            this._contactsTitle.visible = account.running;
            this._noContactsItem.visible = account.running && friends.length === 0;

            const requests = contacts.filter(c => c.subscription !== 'friend')
                .sort((a, b) => a.subscription.localeCompare(b.subscription) ||
                      a.username.localeCompare(b.username));
            syncSection(this._requestsSection, this._requestItems, requests,
                /* @girs types the constructor of the GObject class, not _init() */
                // @ts-expect-error
                c => new RequestItem(client, c, this._reportError));
            this._requestsTitle.visible = requests.length > 0;

            const groups = client.groups.sort((a, b) => a.name.localeCompare(b.name));
            syncSection(this._groupsSection, this._groupItems, groups,
                /* @girs types the constructor of the GObject class, not _init() */
                // @ts-expect-error
                g => new GroupItem(client, g, this._reportError));
            this._groupsTitle.visible = groups.length > 0;

            this._syncCall();
        }

        /* The call shown: the one not ended, the active one first. */
        _syncCall() {
            const order = {active: 0, connecting: 1, ringing: 2};
            const calls = this._client.calls.filter(c => c.state in order)
                .sort((a, b) => order[a.state] - order[b.state]);
            const call = calls[0] ?? null;
            this._callPath = call?.path ?? null;
            this._callSection.actor.visible = call !== null &&
                !(call.state === 'ringing' && call.direction === 'incoming');
            if (call === null) {
                this._stopTimer();
                return;
            }
            let peers = call.participants.filter(p => p.state !== 'left')
                .map(p => this._client.contact(p.username)?.displayName || p.username);
            if (call.group !== '/')
                peers = [this._client.group(call.group)?.name ?? peers.join(', ')];
            const names = peers.join(', ');
            let title;
            if (call.state === 'ringing')
                title = _('Calling %s…').format(names);
            else if (call.state === 'connecting')
                title = _('Connecting to %s…').format(names);
            else
                title = _('In a call with %s').format(names);
            if (call.startTimeMs > 0) {
                const nowMs = GLib.get_real_time() / 1000;
                const seconds = Math.max(0, Math.floor((nowMs - call.startTimeMs) / 1000));
                title += `  ${formatDuration(seconds)}`;
                this._startTimer();
            } else {
                this._stopTimer();
            }
            this._callItem.label.text = title;
            this._muteItem.setToggleState(call.muted);
            this._muteItem.visible = call.state !== 'ringing';
            /* Translators: ends an outgoing call that still rings */
            this._hangupItem.label.text = call.state === 'ringing' ? _('Cancel') : _('Hang up');
        }

        _startTimer() {
            if (this._timerId)
                return;
            this._timerId = GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, 1, () => {
                this._syncCall();
                return GLib.SOURCE_CONTINUE;
            });
        }

        _stopTimer() {
            if (this._timerId)
                GLib.source_remove(this._timerId);
            this._timerId = 0;
        }

        /* What the panel and the menu show, read from the widgets: for tests
         * (org.gnome.Shell.Eval) and for debugging. */
        describe() {
            const visibleItems = (section, map) => [...map.values()]
                .filter(item => item.visible && section.actor.visible);
            return {
                presence: this._presenceLabel.text,
                dot: this._dot.style_class,
                badge: this._badge.visible ? this._badge.text : '',
                account: this._accountItem.label.text,
                call: this._callSection.actor.visible ? this._callItem.label.text : '',
                contacts: this._contactsSection._getMenuItems().map((/** @type {any} */ item) =>
                    ({username: item.username, name: item.label.text, presence: item._presenceLabel.text})),
                requests: visibleItems(this._requestsSection, this._requestItems)
                    .map(item => item.label.text),
                groups: visibleItems(this._groupsSection, this._groupItems)
                    .map(item => item.label.text),
            };
        }

        _onDestroy() {
            this._stopTimer();
            this._client.disconnect(this._changedId);
            // @ts-expect-error private Shell API (43-48)
            super._onDestroy();
        }
    });

    return {Indicator, presenceName};
}

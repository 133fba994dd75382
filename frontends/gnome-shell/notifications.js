/* notifications.js — Shell notifications for what voipd reports: an incoming
 * call (Answer, Decline) for as long as it rings, a missed call, and new
 * messages unless own presence is "do not disturb" or the sender is muted
 * (the contact's Muted property: `voipctl contact mute USER`).
 *
 * Like client.js, it takes its imports as parameters (see extension.js).
 * MessageTray changed in GNOME Shell 46 (sources and notifications made from
 * a property object, Source.addNotification); newSource(), newNotification()
 * and show() speak whichever the running Shell has.
 */

/* exported defineNotifier */

/** @param {import('./shell-deps.js').ShellDeps} deps the imports (shell-deps.d.ts) */
function defineNotifier({Main, MessageTray, _}) {
    /* GNOME Shell 46 and later */
    const PROPERTY_API = typeof MessageTray.Source.prototype.addNotification === 'function';

    function newSource(title, iconName) {
        return PROPERTY_API ? new MessageTray.Source({title, iconName})
            // @ts-expect-error GNOME Shell 43-45's API
            : new MessageTray.Source(title, iconName);
    }

    /* options: urgency, resident (both left as they are by default) */
    function newNotification(source, title, body, options = {}) {
        if (PROPERTY_API)
            return new MessageTray.Notification({source, title, body: body ?? '', ...options});
        /* GNOME Shell 43-45's API: not in @girs/gnome-shell 48's types */
        // @ts-expect-error
        const notification = new MessageTray.Notification(source, title, body);
        if (options.urgency !== undefined)
            // @ts-expect-error
            notification.setUrgency(options.urgency);
        if (options.resident !== undefined)
            // @ts-expect-error
            notification.setResident(options.resident);
        return notification;
    }

    function show(source, notification) {
        if (PROPERTY_API)
            source.addNotification(notification);
        else
            source.showNotification(notification);
    }

    class Notifier {
        constructor(client, reportError) {
            this._client = client;
            this._reportError = reportError;
            this._source = null;
            this._callNotifications = new Map();   /* call path → notification */
            this._dismissedCalls = new Set();
            this._handlerIds = [
                client.connect('changed', () => this._syncCalls()),
                client.connect('message-received', (conversation, message) =>
                    this._onMessage(conversation, message)),
                client.connect('call-missed', call => this._onMissedCall(call)),
            ];
        }

        destroy() {
            this._handlerIds.forEach(id => this._client.disconnect(id));
            this._handlerIds = [];
            this._source?.destroy(MessageTray.NotificationDestroyedReason.SOURCE_CLOSED);
            this._source = null;
        }

        /* One source for all of ours; the tray destroys it with its last
         * notification, and it is made again for the next. */
        _ensureSource() {
            if (this._source === null) {
                this._source = newSource(_('Voice calls and chat'), 'call-start-symbolic');
                this._source.connect('destroy', () => {
                    this._source = null;
                });
                Main.messageTray.add(this._source);
            }
            return this._source;
        }

        _nameOf(username) {
            const contact = this._client.contact(username);
            return contact?.displayName || username;
        }

        /* ---- calls ---- */

        _syncCalls() {
            const ringing = new Map(this._client.calls
                .filter(c => c.direction === 'incoming' && c.state === 'ringing')
                .map(c => [c.path, c]));

            for (const [path, notification] of this._callNotifications) {
                if (!ringing.has(path))
                    notification.destroy();
            }
            for (const [path, call] of ringing) {
                if (!this._callNotifications.has(path) && !this._dismissedCalls.has(path))
                    this._notifyCall(call);
            }
            for (const path of this._dismissedCalls) {
                if (!ringing.has(path))
                    this._dismissedCalls.delete(path);
            }
        }

        _notifyCall(call) {
            const source = this._ensureSource();
            const caller = this._nameOf(call.initiator);
            let title, body;
            if (call.group !== '/') {
                const group = this._client.group(call.group);
                title = _('Incoming group call from %s').format(caller);
                body = group ? group.name : '';
            } else {
                title = _('Incoming call from %s').format(caller);
                body = _('Voice call');
            }
            const notification = newNotification(source, title, body,
                {urgency: MessageTray.Urgency.CRITICAL, resident: false});
            /* for tests/shell: which call a notification is for */
            /** @type {any} */ (notification).voipCallPath = call.path;
            notification.addAction(_('Answer'), () =>
                this._client.answer(call.path).catch(e =>
                    this._reportError(_('Cannot answer the call'), e)));
            notification.addAction(_('Decline'), () =>
                this._client.reject(call.path).catch(e =>
                    this._reportError(_('Cannot decline the call'), e)));
            notification.connect('destroy', () => {
                this._callNotifications.delete(call.path);
                /* dismissed by the user while it still rings: do not show it again */
                if (this._client.calls.some(c => c.path === call.path && c.state === 'ringing'))
                    this._dismissedCalls.add(call.path);
            });
            this._callNotifications.set(call.path, notification);
            show(source, notification);
        }

        _onMissedCall(call) {
            const source = this._ensureSource();
            const notification = newNotification(source,
                _('Missed call from %s').format(this._nameOf(call.initiator)), null);
            show(source, notification);
        }

        /* ---- messages ---- */

        _onMessage(conversation, message) {
            const account = this._client.account;
            if (message.direction === 'outgoing' || message.deleted)
                return;
            if (account.presence === 'dnd')
                return;
            const author = this._client.contact(message.sender);
            if (author && author.muted)
                return;
            const sender = this._nameOf(message.sender);
            const text = message.kind === 'voice' ? _('Voice message') : message.text;
            /* a group's messages: the group as the title, the sender before the text */
            const title = conversation.isGroup ? conversation.name : sender;
            const body = conversation.isGroup ? `${sender}: ${text}` : text;
            const source = this._ensureSource();
            const notification = newNotification(source, title, body);
            notification.addAction(_('Mark as read'), () =>
                this._client.markRead(conversation.path).catch(e =>
                    this._reportError(_('Cannot mark as read'), e)));
            show(source, notification);
        }
    }

    return {Notifier};
}

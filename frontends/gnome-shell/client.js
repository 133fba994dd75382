/* client.js — the applet's view of voipd: org.voipd.Voip1 through its object
 * manager, as plain JavaScript objects.
 *
 * No imports here: defineClient() takes them, so that the same file serves
 * GNOME Shell 43/44 (legacy imports, see extension.js) and, with an
 * `export {defineClient};` line appended, an ES-module build for 45+.
 *
 * The Account interface lives at the manager's own path, outside the managed
 * objects, so it has a proxy of its own. A contact's or a group's object
 * carries a second interface, Conversation, with its messages and Unread. The client never starts voipd
 * (DO_NOT_AUTO_START everywhere). The object manager client and the proxy
 * follow the name's owner: when voipd goes away every object is removed and
 * the account's properties dropped, when it comes back they are loaded again;
 * the client only re-reads its state and says 'changed'.
 */

/* exported defineClient */

/** @param {import('./shell-deps.js').ShellDeps} deps the imports (shell-deps.d.ts) */
function defineClient({Gio, GLib, _}) {
    const BUS_NAME = 'org.voipd.Voip1';
    const ROOT_PATH = '/org/voipd/Voip1';
    const IFACE = 'org.voipd.Voip1.';
    const CALL_TIMEOUT_MS = 30000;
    /* The desktop app (frontends/gtk), D-Bus activatable: its actions
     * open-conversation and open-call take an object path of voipd's. */
    const APP_ID = 'org.voipd.Voip';
    const APP_PATH = '/org/voipd/Voip';

    /* Reasons of an ended incoming call that nobody here chose. */
    const MISSED_REASONS = ['timeout', 'hangup', 'offline', 'failed'];

    function prop(proxy, name, fallback) {
        const value = proxy?.get_cached_property(name);
        return value ? value.deepUnpack() : fallback;
    }

    /* (txssssbbu) → an object; direction: 'incoming' or 'outgoing' (ours) */
    function unpackMessage(variant) {
        const [id, timestampMs, sender, direction, kind, text, edited, deleted, durationMs] =
            variant.deepUnpack();
        return {id, timestampMs, sender, direction, kind, text, edited, deleted, durationMs};
    }

    class VoipClient {
        constructor() {
            this._handlers = new Map();
            this._nextHandlerId = 1;
            this._manager = null;
            this._managerSignals = [];
            this._account = null;
            this._accountSignals = [];
            this._cancellable = new Gio.Cancellable();
            this._changedId = 0;
            this._ringingSeen = new Set();
            this._missedCounted = new Set();
            this.missedCalls = 0;
        }

        /* ---- a tiny signal emitter (no dependency on the shell's) ---- */

        connect(name, callback) {
            const id = this._nextHandlerId++;
            this._handlers.set(id, {name, callback});
            return id;
        }

        disconnect(id) {
            this._handlers.delete(id);
        }

        _emit(name, ...args) {
            for (const {name: n, callback} of [...this._handlers.values()]) {
                if (n !== name)
                    continue;
                try {
                    callback(...args);
                } catch (e) {
                    logError(e, `[voip] ${name} handler`);
                }
            }
        }

        /* ---- life cycle ---- */

        start() {
            Gio.DBusProxy.new_for_bus(Gio.BusType.SESSION,
                Gio.DBusProxyFlags.DO_NOT_AUTO_START | Gio.DBusProxyFlags.GET_INVALIDATED_PROPERTIES,
                null, BUS_NAME, ROOT_PATH, `${IFACE}Account`, this._cancellable,
                (source, result) => {
                    try {
                        this._account = Gio.DBusProxy.new_for_bus_finish(result);
                    } catch (e) {
                        if (!e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED))
                            logError(e, '[voip] cannot watch the account');
                        return;
                    }
                    const changed = () => this._queueChanged();
                    this._accountSignals = [
                        this._account.connect('notify::g-name-owner', changed),
                        this._account.connect('g-properties-changed', changed),
                    ];
                    this._queueChanged();
                });
            Gio.DBusObjectManagerClient.new_for_bus(Gio.BusType.SESSION,
                Gio.DBusObjectManagerClientFlags.DO_NOT_AUTO_START,
                /* GJS takes no destroy notify for the proxy type function; @girs says it does */
                // @ts-expect-error
                BUS_NAME, ROOT_PATH, null, this._cancellable,
                (source, result) => {
                    try {
                        this._manager = Gio.DBusObjectManagerClient.new_for_bus_finish(result);
                    } catch (e) {
                        if (!e.matches(Gio.IOErrorEnum, Gio.IOErrorEnum.CANCELLED))
                            logError(e, '[voip] cannot watch org.voipd.Voip1');
                        return;
                    }
                    this._connectManager();
                    this._queueChanged();
                });
        }

        destroy() {
            this._cancellable.cancel();
            if (this._changedId)
                GLib.source_remove(this._changedId);
            this._changedId = 0;
            for (const id of this._managerSignals)
                this._manager.disconnect(id);
            this._managerSignals = [];
            this._manager = null;
            for (const id of this._accountSignals)
                this._account.disconnect(id);
            this._accountSignals = [];
            this._account = null;
            this._handlers.clear();
        }

        _connectManager() {
            const m = this._manager;
            const changed = () => this._queueChanged();
            this._managerSignals = [
                m.connect('notify::name-owner', changed),
                m.connect('object-added', changed),
                m.connect('object-removed', changed),
                m.connect('interface-added', changed),
                m.connect('interface-removed', changed),
                m.connect('interface-proxy-properties-changed', changed),
                m.connect('interface-proxy-signal',
                    (manager, object, proxy, sender, signal, params) =>
                        this._onSignal(proxy, signal, params)),
            ];
        }

        /* Many properties change at once (a login, a roster): one 'changed'
         * per main loop iteration is enough. */
        _queueChanged() {
            if (this._changedId)
                return;
            this._changedId = GLib.idle_add(GLib.PRIORITY_DEFAULT, () => {
                this._changedId = 0;
                this._trackCalls();
                this._emit('changed');
                return GLib.SOURCE_REMOVE;
            });
        }

        _onSignal(proxy, signal, params) {
            if (signal !== 'MessageReceived')
                return;
            if (proxy.get_interface_name() !== `${IFACE}Conversation`)
                return;
            const path = proxy.get_object_path();
            const group = this._manager.get_interface(path, `${IFACE}Group`);
            const contact = this._manager.get_interface(path, `${IFACE}Contact`);
            let conversation = null;
            if (group)
                conversation = this._group(group);
            else if (contact)
                conversation = this._contact(contact);
            if (conversation)
                this._emit('message-received', conversation, unpackMessage(params.get_child_value(0)));
        }

        /* Missed calls: incoming calls that rang here and ended unanswered
         * for a reason other than our own choice. */
        _trackCalls() {
            for (const call of this.calls) {
                if (call.direction !== 'incoming')
                    continue;
                if (call.state === 'ringing') {
                    this._ringingSeen.add(call.id);
                } else if (call.state === 'ended' && this._ringingSeen.has(call.id) &&
                         call.startTimeMs === 0 && MISSED_REASONS.includes(call.stateReasonCode) &&
                         !this._missedCounted.has(call.id)) {
                    this._missedCounted.add(call.id);
                    this.missedCalls++;
                    this._emit('call-missed', call);
                }
            }
        }

        clearMissedCalls() {
            if (this.missedCalls === 0)
                return;
            this.missedCalls = 0;
            this._queueChanged();
        }

        /* ---- state ---- */

        /* voipd is on the bus */
        get running() {
            return this._manager?.name_owner != null || this._account?.g_name_owner != null;
        }

        get account() {
            const proxy = this._account?.g_name_owner ? this._account : null;
            return {
                running: this.running,
                state: prop(proxy, 'State', 'offline'),
                stateReasonCode: prop(proxy, 'StateReasonCode', ''),
                stateReason: prop(proxy, 'StateReason', ''),
                username: prop(proxy, 'Username', ''),
                displayName: prop(proxy, 'DisplayName', ''),
                presence: prop(proxy, 'Presence', 'offline'),
                server: prop(proxy, 'Server', ''),
            };
        }

        _proxies(iface) {
            if (!this._manager)
                return [];
            return this._manager.get_objects()
                .map(object => object.get_interface(`${IFACE}${iface}`))
                .filter(proxy => proxy !== null);
        }

        /* Unread of the object's Conversation interface */
        _unread(proxy) {
            const conversation = this._manager?.get_interface(proxy.get_object_path(),
                `${IFACE}Conversation`) ?? null;
            return prop(conversation, 'Unread', 0);
        }

        _contact(proxy) {
            return {
                path: proxy.get_object_path(),
                username: prop(proxy, 'Username', ''),
                displayName: prop(proxy, 'DisplayName', ''),
                presence: prop(proxy, 'Presence', 'offline'),
                motd: prop(proxy, 'Motd', ''),
                subscription: prop(proxy, 'Subscription', ''),
                unread: this._unread(proxy),
                muted: prop(proxy, 'Muted', false),
                isGroup: false,
            };
        }

        _group(proxy) {
            return {
                path: proxy.get_object_path(),
                id: prop(proxy, 'Id', 0),
                name: prop(proxy, 'Name', ''),
                owner: prop(proxy, 'Owner', ''),
                members: prop(proxy, 'Members', []),
                unread: this._unread(proxy),
                isGroup: true,
            };
        }

        _call(proxy) {
            return {
                path: proxy.get_object_path(),
                id: prop(proxy, 'Id', 0),
                direction: prop(proxy, 'Direction', ''),
                initiator: prop(proxy, 'Initiator', ''),
                state: prop(proxy, 'State', ''),
                stateReasonCode: prop(proxy, 'StateReasonCode', ''),
                stateReason: prop(proxy, 'StateReason', ''),
                participants: prop(proxy, 'Participants', [])
                    .map(([username, state]) => ({username, state})),
                group: prop(proxy, 'Group', '/'),
                muted: prop(proxy, 'Muted', false),
                startTimeMs: prop(proxy, 'StartTime', 0),
            };
        }

        get contacts() {
            return this._proxies('Contact').map(p => this._contact(p));
        }

        get groups() {
            return this._proxies('Group').map(p => this._group(p));
        }

        get calls() {
            return this._proxies('Call').map(p => this._call(p));
        }

        contact(username) {
            return this.contacts.find(c => c.username === username) ?? null;
        }

        group(path) {
            const proxy = this._manager?.get_interface(path, `${IFACE}Group`) ?? null;
            return proxy ? this._group(proxy) : null;
        }

        /* Unread messages in every conversation. */
        get unread() {
            return [...this.contacts, ...this.groups].reduce((n, c) => n + c.unread, 0);
        }

        /* ---- methods ---- */

        /* Calls a method of voipd; resolves to the unpacked reply. */
        _invoke(path, iface, method, params = null) {
            return new Promise((resolve, reject) => {
                if (!this._manager) {
                    reject(new Error(_('The voip service is not running')));
                    return;
                }
                this._manager.connection.call(BUS_NAME, path, iface, method, params, null,
                    Gio.DBusCallFlags.NO_AUTO_START, CALL_TIMEOUT_MS, this._cancellable,
                    (connection, result) => {
                        try {
                            resolve(connection.call_finish(result).deepUnpack());
                        } catch (e) {
                            if (e instanceof GLib.Error)
                                Gio.DBusError.strip_remote_error(e);
                            reject(e);
                        }
                    });
            });
        }

        setPresence(presence) {
            return this._invoke(ROOT_PATH, `${IFACE}Account`, 'SetPresence',
                new GLib.Variant('(s)', [presence]));
        }

        acceptContact(path) {
            return this._invoke(path, `${IFACE}Contact`, 'Accept');
        }

        denyContact(path) {
            return this._invoke(path, `${IFACE}Contact`, 'Deny');
        }

        /* path: a contact's or a group's object */
        call(path) {
            const iface = path.includes('/group/') ? 'Group' : 'Contact';
            return this._invoke(path, `${IFACE}${iface}`, 'Call');
        }

        /* path: a contact's or a group's object, both Conversations */
        sendMessage(path, text) {
            return this._invoke(path, `${IFACE}Conversation`, 'SendMessage',
                new GLib.Variant('(s)', [text]));
        }

        markRead(path) {
            return this._invoke(path, `${IFACE}Conversation`, 'MarkRead');
        }

        answer(callPath) {
            return this._invoke(callPath, `${IFACE}Call`, 'Answer');
        }

        reject(callPath) {
            return this._invoke(callPath, `${IFACE}Call`, 'Reject');
        }

        hangup(callPath) {
            return this._invoke(callPath, `${IFACE}Call`, 'Hangup');
        }

        /* Activates an action of the desktop app, starting it if need be
         * (the one call that may start something: the app, never voipd). */
        _activateApp(action, path) {
            return new Promise((resolve, reject) => {
                Gio.DBus.session.call(APP_ID, APP_PATH, 'org.freedesktop.Application',
                    'ActivateAction', new GLib.Variant('(sava{sv})',
                        [action, [new GLib.Variant('s', path)], {}]),
                    null, Gio.DBusCallFlags.NONE, CALL_TIMEOUT_MS, this._cancellable,
                    (connection, result) => {
                        try {
                            connection.call_finish(result);
                            resolve();
                        } catch (e) {
                            if (e instanceof GLib.Error)
                                Gio.DBusError.strip_remote_error(e);
                            reject(e);
                        }
                    });
            });
        }

        /* path: a contact's or a group's object */
        openConversation(path) {
            return this._activateApp('open-conversation', path);
        }

        openCall(callPath) {
            return this._activateApp('open-call', callPath);
        }

        setMuted(callPath, muted) {
            return this._invoke(callPath, 'org.freedesktop.DBus.Properties', 'Set',
                new GLib.Variant('(ssv)', [`${IFACE}Call`, 'Muted',
                    new GLib.Variant('b', muted)]));
        }
    }

    return {VoipClient};
}

// esm-client.js — the applet's shared client logic, from its ES-module build
// (GNOME Shell 45-48), run for real under gjs against the voipd on this
// session bus: the same VoipClient the panel uses, with the real Gio and GLib
// (it needs nothing of the Shell). tests/shell/test-shell.sh drives it.
//
// Usage: gjs -m esm-client.js ESM_BUILD_DIR snapshot USERNAME...
//          waits until voipd is running, the account online and each USERNAME
//          listed, then prints {account, contacts, groups} as JSON
//        gjs -m esm-client.js ESM_BUILD_DIR send USERNAME TEXT
//          the same wait, then sends TEXT to USERNAME's conversation
// Exits 1 with a message after WAIT_S seconds (default 30) without that state.

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import System from 'system';

const [esmDir, command, ...args] = ARGV;
const waitS = Number(GLib.getenv('WAIT_S') ?? 30);
const wanted = command === 'snapshot' ? args : args.slice(0, 1);
const loop = new GLib.MainLoop(null, false);
let client = null;
let status = 1;

function ready() {
    const names = client.contacts.map(c => c.username);
    return client.running && client.account.state === 'online' && wanted.every(u => names.includes(u));
}

function finish(code, message) {
    if (message)
        printerr(message);
    status = code;
    loop.quit();
}

async function act() {
    if (command === 'snapshot') {
        print(JSON.stringify({account: client.account, contacts: client.contacts, groups: client.groups}));
    } else if (command === 'send') {
        await client.sendMessage(client.contact(args[0]).path, args[1]);
        print('sent');
    } else {
        throw new Error(`unknown command ${command}`);
    }
}

function start({defineClient}) {
    const {VoipClient} = defineClient({Gio, GLib, _: s => s});
    client = new VoipClient();
    let acting = false;
    client.connect('changed', () => {
        if (acting || !ready())
            return;
        acting = true;
        act().then(() => finish(0)).catch(e => finish(1, `${command}: ${e.message}`));
    });
    client.start();
}

GLib.timeout_add_seconds(GLib.PRIORITY_DEFAULT, waitS, () => {
    finish(1, `${command}: after ${waitS} s: running ${client?.running}, ` +
        `account ${JSON.stringify(client?.account)}, contacts ${client?.contacts.map(c => c.username)}`);
    return GLib.SOURCE_REMOVE;
});
/* No top-level await: promise jobs would wait for the module, which waits
 * for the main loop below. */
import(Gio.File.new_for_path(esmDir).get_child('client.js').get_uri())
    .then(start).catch(e => finish(1, `cannot load client.js: ${e}`));
loop.run();
client?.destroy();
System.exit(status);

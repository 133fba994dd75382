// test-esm-load.js — loads the applet's ES-module build (GNOME Shell 45-48)
// in plain gjs, as the Shell's extension manager would: every module parses,
// every import resolves, the shared modules' classes register, the default
// export is an Extension subclass that takes its metadata. The Shell's own
// modules are the stand-ins of esm-shims/ (README.md there): this is not a
// run in a real GNOME Shell 45+, which Debian 12 does not have. TAP output.
//
// Usage: gjs -m test-esm-load.js ESM_BUILD_DIR SHIMS_GRESOURCE

import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import System from 'system';

const [esmDir, shimsResource] = ARGV;
const tests = [];
const test = (name, fn) => tests.push({name, fn});

function assert(condition, what) {
    if (!condition)
        throw new Error(what);
}

const dir = Gio.File.new_for_path(esmDir);
const readJson = name => JSON.parse(new TextDecoder().decode(dir.get_child(name).load_contents(null)[1]));

let extensionModule = null;

test('metadata.json lists GNOME Shell 45 to 48 and the voip domain', () => {
    const metadata = readJson('metadata.json');
    assert(JSON.stringify(metadata['shell-version']) === JSON.stringify(['45', '46', '47', '48']),
        `shell-version is ${JSON.stringify(metadata['shell-version'])}`);
    assert(metadata.uuid === 'voip@voipd.org', `uuid is ${metadata.uuid}`);
    assert(metadata['gettext-domain'] === 'voip', 'gettext-domain is not voip');
});

test('every shared module is an ES module exporting its define function', async () => {
    for (const [file, name] of [['client.js', 'defineClient'], ['indicator.js', 'defineIndicator'],
        ['notifications.js', 'defineNotifier'], ['applet.js', 'defineApplet']]) {
        // eslint-disable-next-line no-await-in-loop
        const module = await import(dir.get_child(file).get_uri());
        assert(typeof module[name] === 'function', `${file} does not export ${name}`);
    }
});

test('extension.js loads with every import resolved', async () => {
    Gio.Resource.load(shimsResource)._register();
    extensionModule = await import(dir.get_child('extension.js').get_uri());
});

test('its default export extends Extension and takes the metadata', async () => {
    const {Extension} = await import('resource:///org/gnome/shell/extensions/extension.js');
    const VoipExtension = extensionModule.default;
    assert(typeof VoipExtension === 'function', 'no default export');
    assert(VoipExtension.prototype instanceof Extension, 'the default export does not extend Extension');
    const metadata = {...readJson('metadata.json'), path: esmDir};
    const extension = new VoipExtension(metadata);
    assert(extension.uuid === 'voip@voipd.org', 'the uuid did not reach the base class');
    assert(typeof extension.enable === 'function' && typeof extension.disable === 'function',
        'no enable() and disable()');
    extension.disable();   /* before any enable(): must not throw */
});

test('the indicator classes are registered GObject types', () => {
    /* gjs names a class's type Gjs_ + its name unless told otherwise */
    for (const name of ['VoipIndicator', 'VoipContactItem', 'VoipRequestItem', 'VoipGroupItem'])
        assert(GObject.type_from_name(`Gjs_${name}`), `${name} is not registered`);
});

print(`1..${tests.length}`);
let failed = 0;
const loop = new GLib.MainLoop(null, false);
(async () => {
    for (const [i, {name, fn}] of tests.entries()) {
        try {
            // eslint-disable-next-line no-await-in-loop
            await fn();
            print(`ok ${i + 1} - ${name}`);
        } catch (e) {
            failed++;
            print(`not ok ${i + 1} - ${name}`);
            for (const line of `${e}\n${e.stack ?? ''}`.split('\n'))
                print(`# ${line}`);
        }
    }
    loop.quit();
})();
loop.run();
System.exit(failed ? 1 : 0);

/* extension-esm.js — the entry point for GNOME Shell 45 to 48 (ES modules),
 * installed as extension.js of the ES-module build.
 *
 * Like extension.js for 43/44 it only gathers the imports and hands them to
 * the shared modules' define*() functions; meson makes those modules ES
 * modules by appending their `export` line (make-esm-module.py).
 */

import Clutter from 'gi://Clutter';
import Gio from 'gi://Gio';
import GLib from 'gi://GLib';
import GObject from 'gi://GObject';
import St from 'gi://St';
import Gettext from 'gettext';

import * as Main from 'resource:///org/gnome/shell/ui/main.js';
import * as MessageTray from 'resource:///org/gnome/shell/ui/messageTray.js';
import * as PanelMenu from 'resource:///org/gnome/shell/ui/panelMenu.js';
import * as PopupMenu from 'resource:///org/gnome/shell/ui/popupMenu.js';
import {Extension, gettext as _, ngettext} from 'resource:///org/gnome/shell/extensions/extension.js';

import {defineClient} from './client.js';
import {defineIndicator} from './indicator.js';
import {defineNotifier} from './notifications.js';
import {defineApplet} from './applet.js';

const deps = {
    Clutter, Gio, GLib, GObject, St, Main, MessageTray, PanelMenu, PopupMenu, _, ngettext,
};
/* Once per Shell: the indicator's GObject classes can be registered only once. */
const {VoipClient} = defineClient(deps);
const {Indicator} = defineIndicator(deps);
const {Notifier} = defineNotifier(deps);
const {Applet} = defineApplet({...deps, VoipClient, Indicator, Notifier});

export default class VoipExtension extends Extension {
    constructor(metadata) {
        super(metadata);
        /* The base class bound the domain to the extension's locale/ or the
         * Shell's prefix; installed by meson, the catalogue is in ours. */
        const localedir = this.metadata['voip-localedir'];
        if (localedir && !this.dir.get_child('locale').query_exists(null))
            Gettext.bindtextdomain(this.metadata['gettext-domain'], localedir);
        this._applet = null;
    }

    enable() {
        this._applet = new Applet();
        this._applet.enable();
    }

    disable() {
        this._applet?.disable();
        this._applet = null;
    }
}

/* extension.js — the entry point for GNOME Shell 43 and 44 (legacy imports).
 *
 * Everything else takes its imports as parameters; an ES-module entry point
 * for GNOME 45+ would import the same things, call the same define*()
 * functions and wrap Applet in `export default class extends Extension`.
 */

/* exported init */

const { Clutter, Gio, GLib, GObject, St } = imports.gi;
const Gettext = imports.gettext;
const ExtensionUtils = imports.misc.extensionUtils;
const Main = imports.ui.main;
const MessageTray = imports.ui.messageTray;
const PanelMenu = imports.ui.panelMenu;
const PopupMenu = imports.ui.popupMenu;

const Me = ExtensionUtils.getCurrentExtension();

function init() {
    ExtensionUtils.initTranslations();
    /* Installed by meson outside the Shell's prefix: the catalogue is in ours. */
    const localedir = Me.metadata['voip-localedir'];
    if (localedir && !Me.dir.get_child('locale').query_exists(null))
        Gettext.bindtextdomain(Me.metadata['gettext-domain'], localedir);

    const deps = {
        Clutter, Gio, GLib, GObject, St, Main, MessageTray, PanelMenu, PopupMenu,
        _: ExtensionUtils.gettext,
        ngettext: ExtensionUtils.ngettext,
    };
    const { VoipClient } = Me.imports.client.defineClient(deps);
    const { Indicator } = Me.imports.indicator.defineIndicator(deps);
    const { Notifier } = Me.imports.notifications.defineNotifier(deps);
    const { Applet } = Me.imports.applet.defineApplet({ ...deps, VoipClient, Indicator, Notifier });
    return new Applet();
}

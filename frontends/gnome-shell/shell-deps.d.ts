// shell-deps.d.ts — the imports that each shared module's define*() takes
// (extension-esm.js and extension.js hand them over), typed for the static
// check of the ES-module build (tests/shell/typecheck: tsc --checkJs against
// @girs/gnome-shell). Not installed; the modules name it in JSDoc only.
import type Clutter from 'gi://Clutter';
import type Gio from 'gi://Gio';
import type GLib from 'gi://GLib';
import type GObject from 'gi://GObject';
import type St from 'gi://St';
import type * as Main from 'resource:///org/gnome/shell/ui/main.js';
import type * as MessageTray from 'resource:///org/gnome/shell/ui/messageTray.js';
import type * as PanelMenu from 'resource:///org/gnome/shell/ui/panelMenu.js';
import type * as PopupMenu from 'resource:///org/gnome/shell/ui/popupMenu.js';

export interface ShellDeps {
    Clutter: typeof Clutter;
    Gio: typeof Gio;
    GLib: typeof GLib;
    GObject: typeof GObject;
    St: typeof St;
    Main: typeof Main;
    MessageTray: typeof MessageTray;
    PanelMenu: typeof PanelMenu;
    PopupMenu: typeof PopupMenu;
    _: (msgid: string) => string;
    ngettext: (msgid: string, msgidPlural: string, n: number) => string;
}

/* what defineApplet() takes besides: the other modules' classes */
export interface AppletDeps extends ShellDeps {
    VoipClient: ReturnType<typeof import('./client.js').defineClient>['VoipClient'];
    Indicator: ReturnType<typeof import('./indicator.js').defineIndicator>['Indicator'];
    Notifier: ReturnType<typeof import('./notifications.js').defineNotifier>['Notifier'];
}

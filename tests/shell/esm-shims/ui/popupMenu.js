// Stand-in for resource:///org/gnome/shell/ui/popupMenu.js (see ../README.md):
// the classes the applet builds on, registered like the Shell's, with nothing inside.
import GObject from 'gi://GObject';
import St from 'gi://St';

export const Ornament = {NONE: 0, DOT: 1, CHECK: 2, HIDDEN: 3, NO_DOT: 4};

export const PopupBaseMenuItem = GObject.registerClass(
class PopupBaseMenuItem extends St.BoxLayout {
    _init(params = {}) {
        super._init({reactive: params.reactive ?? true, can_focus: params.can_focus ?? true});
    }
});

export const PopupMenuItem = GObject.registerClass(
class PopupMenuItem extends PopupBaseMenuItem {
    _init(text, params) {
        super._init(params);
        this.label = new St.Label({text});
        this.add_child(this.label);
    }
});

export const PopupSeparatorMenuItem = GObject.registerClass(
class PopupSeparatorMenuItem extends PopupBaseMenuItem {
    _init(text = '') {
        super._init({reactive: false, can_focus: false});
        this.label = new St.Label({text});
    }
});

export const PopupSwitchMenuItem = GObject.registerClass({
    Signals: {'toggled': {param_types: [GObject.TYPE_BOOLEAN]}},
}, class PopupSwitchMenuItem extends PopupBaseMenuItem {
    _init(text, active, params) {
        super._init(params);
        this.label = new St.Label({text});
        this.state = active;
    }

    setToggleState(state) {
        this.state = state;
    }
});

export const PopupImageMenuItem = GObject.registerClass(
class PopupImageMenuItem extends PopupBaseMenuItem {
    _init(text, icon, params) {
        super._init(params);
        this.label = new St.Label({text});
    }
});

export const PopupSubMenuMenuItem = GObject.registerClass(
class PopupSubMenuMenuItem extends PopupBaseMenuItem {
    _init(text, wantIcon) {
        super._init();
        this.label = new St.Label({text});
        this.menu = null;
    }
});

export class PopupMenuSection {
    constructor() {
        this.box = null;
    }
}

// Stand-in for resource:///org/gnome/shell/ui/panelMenu.js (see ../README.md).
import GObject from 'gi://GObject';
import St from 'gi://St';

export const Button = GObject.registerClass(
class PanelMenuButton extends St.Widget {
    _init(menuAlignment, nameText, dontCreateMenu) {
        super._init({reactive: true, can_focus: true, accessible_name: nameText ?? ''});
        this.menu = null;
    }
});

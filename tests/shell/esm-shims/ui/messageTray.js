// Stand-in for resource:///org/gnome/shell/ui/messageTray.js, GNOME Shell 46-48
// shapes: Source and Notification made from a property object (see ../README.md).
import GObject from 'gi://GObject';

export const Urgency = {LOW: 0, NORMAL: 1, HIGH: 2, CRITICAL: 3};

export class Notification extends GObject.Object {
    static [GObject.properties] = {
        'source': GObject.ParamSpec.object('source', '', '', GObject.ParamFlags.READWRITE, GObject.Object.$gtype),
        'title': GObject.ParamSpec.string('title', '', '', GObject.ParamFlags.READWRITE, null),
        'body': GObject.ParamSpec.string('body', '', '', GObject.ParamFlags.READWRITE, null),
        'urgency': GObject.ParamSpec.int('urgency', '', '', GObject.ParamFlags.READWRITE, 0, 3, 1),
        'resident': GObject.ParamSpec.boolean('resident', '', '', GObject.ParamFlags.READWRITE, false),
    };

    static [GObject.signals] = {'destroy': {param_types: [GObject.TYPE_UINT]}};

    static {
        GObject.registerClass(this);
    }

    constructor(params) {
        super(params);
        this.actions = [];
    }

    addAction(label, callback) {
        this.actions.push({label, callback});
    }

    destroy(reason = 0) {
        this.emit('destroy', reason);
    }
}

export class Source extends GObject.Object {
    static [GObject.properties] = {
        'title': GObject.ParamSpec.string('title', '', '', GObject.ParamFlags.READWRITE, null),
        'icon-name': GObject.ParamSpec.string('icon-name', '', '', GObject.ParamFlags.READWRITE, null),
    };

    static [GObject.signals] = {'destroy': {param_types: [GObject.TYPE_UINT]}};

    static {
        GObject.registerClass(this);
    }

    constructor(params) {
        super(params);
        this.notifications = [];
    }

    addNotification(notification) {
        this.notifications.push(notification);
    }

    destroy(reason = 0) {
        this.emit('destroy', reason);
    }
}

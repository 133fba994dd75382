/* voip-application.h — the app: org.voipd.Voip, one instance per session. */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define VOIP_APPLICATION_ID "org.voipd.Voip"

#define VOIP_TYPE_APPLICATION (voip_application_get_type ())
G_DECLARE_FINAL_TYPE (VoipApplication, voip_application, VOIP, APPLICATION, AdwApplication)

VoipApplication *voip_application_new (void);

G_END_DECLS

/* voip-proto.h — everything of the wire protocol library. */
#pragma once

#include "voip-limits.h"
#include "voip-status.h"
#include "voip-catalogue.h"
#include "voip-frame.h"
#include "voip-profile.h"
#include "voip-validate.h"

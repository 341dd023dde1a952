#include "platform/posix/driver.h"

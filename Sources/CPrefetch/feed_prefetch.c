// The header is the whole module (one inline function); SwiftPM wants a source file.
#include "feed_prefetch.h"

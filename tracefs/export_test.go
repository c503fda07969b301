package tracefs

// NewLogEntry exposes newLogEntry to the external tests.
var NewLogEntry = newLogEntry

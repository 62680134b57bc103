package main

import "github.com/mhhs-sit/datacut/internal/store/location"

// locationNone is no S3 settings: for commands on local directories.
func locationNone() location.Options { return location.Options{} }

package main

import (
	"github.com/mhhs-sit/datacut/internal/cli"
	"github.com/mhhs-sit/datacut/internal/cut"
	"github.com/mhhs-sit/datacut/internal/store/location"
)

// locationNone is no S3 settings: for commands on local directories.
func locationNone() location.Options { return location.Options{} }

// checkMPIDFlag refuses an --mpid that is not an MPID; "" (none given) is
// for the command to judge.
func checkMPIDFlag(mpid string) error {
	if mpid != "" && !cut.IsMPID(mpid) {
		return cli.Usage("--mpid %q is not an MPID (4 characters A-Z, 0-9, in upper case, like MTRA)", mpid)
	}
	return nil
}

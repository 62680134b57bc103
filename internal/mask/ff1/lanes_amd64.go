package ff1

import "golang.org/x/sys/cpu"

var haveAESNI = cpu.X86.HasAES && cpu.X86.HasSSE41

// encryptLanes enciphers Lanes blocks in place with the expanded key xk.
//
//go:noescape
func encryptLanes(xk *byte, rounds int, b *[Lanes][16]byte)

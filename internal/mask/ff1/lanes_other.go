//go:build !amd64

package ff1

const haveAESNI = false

func encryptLanes(*byte, int, *[Lanes][16]byte) { panic("ff1: no AES-NI") }

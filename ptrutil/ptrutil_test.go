package ptrutil_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"schedsvc/ptrutil"
)

func TestHelpers(t *testing.T) {
	t.Parallel()
	p := ptrutil.Ptr(3)
	*p = 4
	require.Equal(t, 4, *p, "a pointer to a copy")
	require.Nil(t, ptrutil.NilIfZero(""))
	require.Equal(t, "x", *ptrutil.NilIfZero("x"))
	require.Equal(t, 7, ptrutil.ValOrDefault(nil, 7))
	require.Equal(t, 0, ptrutil.ValOrDefault(ptrutil.Ptr(0), 7), "a set zero is kept")
	v := "old"
	ptrutil.SetIf(&v, nil)
	require.Equal(t, "old", v)
	ptrutil.SetIf(&v, ptrutil.Ptr("new"))
	require.Equal(t, "new", v)
}

// Package eventually waits in tests for a condition to hold, with a timeout
// and a report of what was last seen, so that no test polls without bound.
//
//	eventually.True(t, 10*time.Second, func() (bool, string) {
//		st, err := prop.Status(ctx, id)
//		if err != nil {
//			return false, err.Error()
//		}
//		return st.Phase.Done(), fmt.Sprint("phase ", st.Phase)
//	})
package eventually

import { Route, Routes } from "react-router";
import { BillingPage } from "./BillingPage";
import { Calendar } from "./Calendar";
import { ClientPage } from "./ClientPage";
import { Clients } from "./Clients";
import { Dashboard } from "./Dashboard";
import { PracticePage } from "./PracticePage";

// The coach workspace, loaded on demand (see routes.tsx).
export default function CoachRoutes() {
  return (
    <Routes>
      <Route index element={<Dashboard />} />
      <Route path="clients" element={<Clients />} />
      <Route path="clients/:clientId" element={<ClientPage />} />
      <Route path="calendar" element={<Calendar />} />
      <Route path="practice" element={<PracticePage />} />
      <Route path="billing" element={<BillingPage />} />
    </Routes>
  );
}
